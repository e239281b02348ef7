package keel

/*
#include <stdlib.h>
#include <keel.h>
*/
import "C"

import (
	"context"
	"math"
	"os"
	"runtime"
	"sync"
	"time"
)

// CgroupMax stands for the kernel's "max" (no limit), as an argument and a result.
const CgroupMax uint64 = math.MaxUint64

// CPUStat is a cpu.stat field (enum keel_cgroup_cpu_stat).
type CPUStat int

// The cpu.stat fields. The usage ones exist without the cpu controller.
const (
	CPUUsageUsec     CPUStat = 1
	CPUUserUsec      CPUStat = 2
	CPUSystemUsec    CPUStat = 3
	CPUNrPeriods     CPUStat = 4
	CPUNrThrottled   CPUStat = 5
	CPUThrottledUsec CPUStat = 6
)

// Cgroup is a handle on one cgroup v2 directory. Values are in the
// kernel's units (bytes, microseconds, counts); CgroupMax means "max".
type Cgroup struct {
	mu    sync.Mutex
	h     *C.keel_cgroup
	owner cgroupOwner // set for a container's cgroup: the container owns h
}

// cgroupOwner is a handle that owns a keel_cgroup (a Container).
type cgroupOwner interface {
	locker() *sync.Mutex // the mutex that guards the owner and the cgroup
	isOpen() bool        // false once the owner's C handle is freed
}

// CgroupMountPath is where the cgroup2 hierarchy is mounted (keel_cgroup_mount_path).
func CgroupMountPath() (string, error) {
	var p *C.char
	var cerr *C.keel_error
	if err := check(C.keel_cgroup_mount_path(&p, &cerr), &cerr); err != nil {
		return "", err
	}
	return takeString(p), nil
}

// CgroupDefaultParent is where new cgroups go by default (keel_cgroup_default_parent).
func CgroupDefaultParent() (string, error) {
	var p *C.char
	var cerr *C.keel_error
	if err := check(C.keel_cgroup_default_parent(&p, &cerr), &cerr); err != nil {
		return "", err
	}
	return takeString(p), nil
}

// CreateCgroup creates the cgroup path under parent ("" for the default
// parent) and opens it (keel_cgroup_create). Close it; Remove deletes it.
func CreateCgroup(path, parent string) (*Cgroup, error) {
	return openCgroup(path, parent, true)
}

// OpenCgroup opens an existing cgroup (keel_cgroup_open); path "" is parent itself.
func OpenCgroup(path, parent string) (*Cgroup, error) {
	return openCgroup(path, parent, false)
}

func openCgroup(path, parent string, create bool) (*Cgroup, error) {
	if err := CheckVersion(); err != nil {
		return nil, err
	}
	cpath := C.CString(path) // "" is meaningful for open: not NULL
	defer freeStr(cpath)
	cparent := cstr(parent)
	defer freeStr(cparent)
	var h *C.keel_cgroup
	var cerr *C.keel_error
	var ret C.int
	if create {
		ret = C.keel_cgroup_create(&h, cpath, cparent, &cerr)
	} else {
		ret = C.keel_cgroup_open(&h, cpath, cparent, &cerr)
	}
	if err := check(ret, &cerr); err != nil {
		return nil, err
	}
	cg := &Cgroup{h: h}
	runtime.SetFinalizer(cg, (*Cgroup).Close)
	return cg, nil
}

func (cg *Cgroup) call(f func(h *C.keel_cgroup, cerr **C.keel_error) C.int) error {
	// A container's cgroup handle belongs to the container: its mutex
	// guards it, and the handle ends with the container.
	mu := &cg.mu
	if cg.owner != nil {
		mu = cg.owner.locker()
	}
	mu.Lock()
	defer mu.Unlock()
	if cg.h == nil || (cg.owner != nil && !cg.owner.isOpen()) {
		return os.ErrClosed
	}
	var cerr *C.keel_error
	return check(f(cg.h, &cerr), &cerr)
}

func (cg *Cgroup) getU64(f func(h *C.keel_cgroup, v *C.uint64_t, cerr **C.keel_error) C.int) (uint64, error) {
	var v C.uint64_t
	err := cg.call(func(h *C.keel_cgroup, cerr **C.keel_error) C.int { return f(h, &v, cerr) })
	return uint64(v), err
}

func (cg *Cgroup) withString(s string, f func(h *C.keel_cgroup, p *C.char, cerr **C.keel_error) C.int) error {
	p := C.CString(s)
	defer freeStr(p)
	return cg.call(func(h *C.keel_cgroup, cerr **C.keel_error) C.int { return f(h, p, cerr) })
}

// Path is the cgroup's absolute path ("" after Close).
func (cg *Cgroup) Path() string {
	var p string
	cg.call(func(h *C.keel_cgroup, cerr **C.keel_error) C.int {
		p = C.GoString(C.keel_cgroup_path(h))
		return 0
	})
	return p
}

// AddPid moves a process into the cgroup (keel_cgroup_add_pid).
func (cg *Cgroup) AddPid(pid int) error {
	return cg.call(func(h *C.keel_cgroup, cerr **C.keel_error) C.int {
		return C.keel_cgroup_add_pid(h, C.pid_t(pid), cerr)
	})
}

// EnableController enables a controller for this cgroup (keel_cgroup_enable_controller).
func (cg *Cgroup) EnableController(name string) error {
	return cg.withString(name, func(h *C.keel_cgroup, p *C.char, cerr **C.keel_error) C.int {
		return C.keel_cgroup_enable_controller(h, p, cerr)
	})
}

// SetMemoryMax sets memory.max in bytes (CgroupMax: no limit).
func (cg *Cgroup) SetMemoryMax(bytes uint64) error {
	return cg.call(func(h *C.keel_cgroup, cerr **C.keel_error) C.int {
		return C.keel_cgroup_set_memory_max(h, C.uint64_t(bytes), cerr)
	})
}

// MemoryMax reads memory.max.
func (cg *Cgroup) MemoryMax() (uint64, error) {
	return cg.getU64(func(h *C.keel_cgroup, v *C.uint64_t, cerr **C.keel_error) C.int {
		return C.keel_cgroup_get_memory_max(h, v, cerr)
	})
}

// SetMemoryHigh sets memory.high in bytes (CgroupMax: no limit).
func (cg *Cgroup) SetMemoryHigh(bytes uint64) error {
	return cg.call(func(h *C.keel_cgroup, cerr **C.keel_error) C.int {
		return C.keel_cgroup_set_memory_high(h, C.uint64_t(bytes), cerr)
	})
}

// SetPidsMax sets pids.max (CgroupMax: no limit).
func (cg *Cgroup) SetPidsMax(n uint64) error {
	return cg.call(func(h *C.keel_cgroup, cerr **C.keel_error) C.int {
		return C.keel_cgroup_set_pids_max(h, C.uint64_t(n), cerr)
	})
}

// PidsMax reads pids.max.
func (cg *Cgroup) PidsMax() (uint64, error) {
	return cg.getU64(func(h *C.keel_cgroup, v *C.uint64_t, cerr **C.keel_error) C.int {
		return C.keel_cgroup_get_pids_max(h, v, cerr)
	})
}

// SetCPUMax sets cpu.max: quotaUsec (CgroupMax: no limit) every periodUsec.
func (cg *Cgroup) SetCPUMax(quotaUsec, periodUsec uint64) error {
	return cg.call(func(h *C.keel_cgroup, cerr **C.keel_error) C.int {
		return C.keel_cgroup_set_cpu_max(h, C.uint64_t(quotaUsec), C.uint64_t(periodUsec), cerr)
	})
}

// CPUMax reads cpu.max.
func (cg *Cgroup) CPUMax() (quotaUsec, periodUsec uint64, err error) {
	var q, p C.uint64_t
	err = cg.call(func(h *C.keel_cgroup, cerr **C.keel_error) C.int {
		return C.keel_cgroup_get_cpu_max(h, &q, &p, cerr)
	})
	return uint64(q), uint64(p), err
}

// SetCPUWeight sets cpu.weight (1-10000).
func (cg *Cgroup) SetCPUWeight(w uint64) error {
	return cg.call(func(h *C.keel_cgroup, cerr **C.keel_error) C.int {
		return C.keel_cgroup_set_cpu_weight(h, C.uint64_t(w), cerr)
	})
}

// SetRaw writes any interface file, such as "memory.oom.group" (keel_cgroup_set_raw).
func (cg *Cgroup) SetRaw(key, value string) error {
	v := C.CString(value)
	defer freeStr(v)
	return cg.withString(key, func(h *C.keel_cgroup, k *C.char, cerr **C.keel_error) C.int {
		return C.keel_cgroup_set_raw(h, k, v, cerr)
	})
}

// GetRaw reads any interface file, such as "cgroup.type" (keel_cgroup_get_raw).
func (cg *Cgroup) GetRaw(key string) (string, error) {
	var out *C.char
	err := cg.withString(key, func(h *C.keel_cgroup, k *C.char, cerr **C.keel_error) C.int {
		return C.keel_cgroup_get_raw(h, k, &out, cerr)
	})
	if err != nil {
		return "", err
	}
	return takeString(out), nil
}

// CPUStat reads one cpu.stat field (keel_cgroup_get_cpu_stat).
func (cg *Cgroup) CPUStat(which CPUStat) (uint64, error) {
	return cg.getU64(func(h *C.keel_cgroup, v *C.uint64_t, cerr **C.keel_error) C.int {
		return C.keel_cgroup_get_cpu_stat(h, C.keel_cgroup_cpu_stat(which), v, cerr)
	})
}

// MemoryCurrent reads memory.current (needs the memory controller).
func (cg *Cgroup) MemoryCurrent() (uint64, error) {
	return cg.getU64(func(h *C.keel_cgroup, v *C.uint64_t, cerr **C.keel_error) C.int {
		return C.keel_cgroup_get_memory_current(h, v, cerr)
	})
}

// MemoryStat reads one memory.stat field ("anon", "file" ...).
func (cg *Cgroup) MemoryStat(field string) (uint64, error) {
	var v C.uint64_t
	err := cg.withString(field, func(h *C.keel_cgroup, p *C.char, cerr **C.keel_error) C.int {
		return C.keel_cgroup_get_memory_stat(h, p, &v, cerr)
	})
	return uint64(v), err
}

// PidsCurrent reads pids.current (needs the pids controller).
func (cg *Cgroup) PidsCurrent() (uint64, error) {
	return cg.getU64(func(h *C.keel_cgroup, v *C.uint64_t, cerr **C.keel_error) C.int {
		return C.keel_cgroup_get_pids_current(h, v, cerr)
	})
}

// Populated reports whether a process is in the cgroup or below (cgroup.events).
func (cg *Cgroup) Populated() (bool, error) {
	var v C.int
	err := cg.call(func(h *C.keel_cgroup, cerr **C.keel_error) C.int {
		return C.keel_cgroup_is_populated(h, &v, cerr)
	})
	return v == 1, err
}

// Frozen reports whether the cgroup is frozen (cgroup.events).
func (cg *Cgroup) Frozen() (bool, error) {
	var v C.int
	err := cg.call(func(h *C.keel_cgroup, cerr **C.keel_error) C.int {
		return C.keel_cgroup_is_frozen(h, &v, cerr)
	})
	return v == 1, err
}

// timeoutMs turns ctx's deadline into the library's timeout (-1: none).
func timeoutMs(ctx context.Context) C.int {
	d, ok := ctx.Deadline()
	if !ok {
		return -1
	}
	ms := time.Until(d).Milliseconds()
	if ms < 0 {
		ms = 0
	}
	if ms > math.MaxInt32 {
		return -1
	}
	return C.int(ms)
}

// Freeze freezes the cgroup and waits until it is frozen, at most until
// ctx's deadline (keel_cgroup_freeze; -ETIMEDOUT then).
func (cg *Cgroup) Freeze(ctx context.Context) error {
	return cg.call(func(h *C.keel_cgroup, cerr **C.keel_error) C.int {
		return C.keel_cgroup_freeze(h, timeoutMs(ctx), cerr)
	})
}

// Thaw thaws the cgroup and waits until it is thawed (keel_cgroup_thaw).
func (cg *Cgroup) Thaw(ctx context.Context) error {
	return cg.call(func(h *C.keel_cgroup, cerr **C.keel_error) C.int {
		return C.keel_cgroup_thaw(h, timeoutMs(ctx), cerr)
	})
}

// Kill SIGKILLs every process in the cgroup and waits until it is empty.
func (cg *Cgroup) Kill() error {
	return cg.call(func(h *C.keel_cgroup, cerr **C.keel_error) C.int { return C.keel_cgroup_kill(h, cerr) })
}

// Remove removes the cgroup and its children; with kill, their processes
// are killed first (keel_cgroup_remove). The handle still needs Close.
func (cg *Cgroup) Remove(kill bool) error {
	var flags C.uint
	if kill {
		flags = C.KEEL_CGROUP_REMOVE_KILL
	}
	return cg.call(func(h *C.keel_cgroup, cerr **C.keel_error) C.int { return C.keel_cgroup_remove(h, flags, cerr) })
}

// detach forgets a container-owned handle (the container freed it); called
// with the container's mutex held.
func (cg *Cgroup) detach() {
	cg.h = nil
}

// Close closes the handle (the cgroup stays). A container's cgroup is
// closed with its container; Close on it does nothing.
func (cg *Cgroup) Close() error {
	cg.mu.Lock()
	defer cg.mu.Unlock()
	if cg.h == nil || cg.owner != nil {
		return nil
	}
	C.keel_cgroup_free(cg.h)
	cg.h = nil
	runtime.SetFinalizer(cg, nil)
	return nil
}
