package keel

/*
#include <stdlib.h>
#include <keel.h>
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// State is a container's state (enum keel_container_state).
type State int

// The states. Values are those of the C library and never change.
const (
	StateCreating State = 1
	StateCreated  State = 2
	StateRunning  State = 3
	StatePaused   State = 4
	StateStopped  State = 5
)

// String is the state's name: "created", "running" ... (keel_container_state_name).
func (s State) String() string { return C.GoString(C.keel_container_state_name(C.int(s))) }

// DeleteFlag changes what Delete does (enum keel_container_delete_flags).
type DeleteFlag uint

const (
	// DeleteForce kills a created, running or paused container first.
	DeleteForce DeleteFlag = C.KEEL_DELETE_FORCE
	// DeleteKeepUpper keeps the writable layer on disk.
	DeleteKeepUpper DeleteFlag = C.KEEL_DELETE_KEEP_UPPER
)

// Container is a libkeel container: an id, a root filesystem, namespaces,
// a cgroup and an init process, with state on disk that any process can
// pick up with LoadContainer. Close frees the handle only; Delete removes
// the container.
type Container struct {
	mu     sync.Mutex
	h      *C.keel_container
	cgroup *Cgroup
	stdio  *settings // keeps the init's stdio files alive until create returns
}

// NewContainer describes a new container; nothing is created until Create
// or Run. Options: WithLayers or WithRootfs, WithArgs, WithStdio ...
func NewContainer(id string, opts ...Option) (*Container, error) {
	if err := CheckVersion(); err != nil {
		return nil, err
	}
	s, err := collect(opts)
	if err != nil {
		return nil, err
	}
	cid, root := cstr(id), cstr(s.stateRoot)
	defer freeStr(cid)
	defer freeStr(root)
	var h *C.keel_container
	var cerr *C.keel_error
	if err := check(C.keel_container_new(&h, cid, root, &cerr), &cerr); err != nil {
		return nil, err
	}
	c := &Container{h: h, stdio: s}
	runtime.SetFinalizer(c, (*Container).Close)
	if err := c.configure(s); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// LoadContainer picks up an existing container by id, in any process
// (keel_container_load). stateRoot "" is the default.
func LoadContainer(id, stateRoot string) (*Container, error) {
	if err := CheckVersion(); err != nil {
		return nil, err
	}
	cid, root := cstr(id), cstr(stateRoot)
	defer freeStr(cid)
	defer freeStr(root)
	var h *C.keel_container
	var cerr *C.keel_error
	if err := check(C.keel_container_load(&h, cid, root, &cerr), &cerr); err != nil {
		return nil, err
	}
	c := &Container{h: h}
	runtime.SetFinalizer(c, (*Container).Close)
	return c, nil
}

// ListContainers returns the ids in a state root, sorted (keel_container_list).
func ListContainers(stateRoot string) ([]string, error) {
	root := cstr(stateRoot)
	defer freeStr(root)
	var ids **C.char
	var cerr *C.keel_error
	if err := check(C.keel_container_list(root, &ids, nil, &cerr), &cerr); err != nil {
		return nil, err
	}
	defer C.keel_container_strv_free(ids)
	return goStrv(ids), nil
}

func (c *Container) configure(s *settings) error {
	var cerr *C.keel_error
	h := c.h
	if s.image != nil {
		if err := c.configureImage(s); err != nil {
			return err
		}
	}
	r := C.keel_container_rootfs(h)
	str := func(f func(p *C.char) C.int, v string) error {
		p := cstr(v)
		defer freeStr(p)
		return check(f(p), &cerr)
	}
	if s.rootfs != "" {
		if err := str(func(p *C.char) C.int { return C.keel_rootfs_set_directory(r, p, &cerr) }, s.rootfs); err != nil {
			return err
		}
	}
	for _, l := range s.layers {
		if err := str(func(p *C.char) C.int { return C.keel_container_add_layer(h, p, &cerr) }, l); err != nil {
			return err
		}
	}
	if !s.noDefaults {
		if err := check(C.keel_rootfs_add_defaults(r, &cerr), &cerr); err != nil {
			return err
		}
	}
	if s.readonly {
		C.keel_rootfs_set_readonly(r, 1)
	}
	if err := applyProcess(C.keel_container_process(h), s); err != nil {
		return err
	}
	if s.hostname != "" {
		if err := str(func(p *C.char) C.int { return C.keel_container_set_hostname(h, p, &cerr) }, s.hostname); err != nil {
			return err
		}
	}
	if s.namespaces != nil {
		if err := check(C.keel_container_set_namespaces(h, C.uint(*s.namespaces), &cerr), &cerr); err != nil {
			return err
		}
	}
	if s.cgroupParent != "" {
		if err := str(func(p *C.char) C.int { return C.keel_container_set_cgroup_parent(h, p, &cerr) }, s.cgroupParent); err != nil {
			return err
		}
	}
	if s.memoryMax != nil {
		if err := check(C.keel_container_set_memory_max(h, C.uint64_t(*s.memoryMax), &cerr), &cerr); err != nil {
			return err
		}
	}
	if s.pidsMax != nil {
		if err := check(C.keel_container_set_pids_max(h, C.uint64_t(*s.pidsMax), &cerr), &cerr); err != nil {
			return err
		}
	}
	if s.cpuMax != nil {
		if err := check(C.keel_container_set_cpu_max(h, C.uint64_t(s.cpuMax[0]), C.uint64_t(s.cpuMax[1]), &cerr), &cerr); err != nil {
			return err
		}
	}
	if s.networkHost != "" {
		if err := str(func(p *C.char) C.int { return C.keel_container_set_network_host(h, p, &cerr) }, s.networkHost); err != nil {
			return err
		}
	}
	if s.network != nil {
		br, addr, gw := cstr(s.network[0]), cstr(s.network[1]), cstr(s.network[2])
		err := check(C.keel_container_set_network(h, br, addr, gw, &cerr), &cerr)
		freeStr(br)
		freeStr(addr)
		freeStr(gw)
		if err != nil {
			return err
		}
	}
	if s.upperDir != "" {
		if err := str(func(p *C.char) C.int { return C.keel_container_set_upper_dir(h, p, &cerr) }, s.upperDir); err != nil {
			return err
		}
	}
	if s.keepUpper {
		C.keel_container_set_keep_upper(h, 1)
	}
	if s.stopSignal != nil {
		if err := c.setStopSignal(*s.stopSignal); err != nil {
			return err
		}
	}
	return nil
}

// setStopSignal checks that sig fits a C int first: a conversion that
// dropped the high bits could turn a bad number into a good one.
func (c *Container) setStopSignal(sig syscall.Signal) error {
	n := C.int(sig)
	if syscall.Signal(n) != sig {
		return &Error{Code: ErrorInvalid, Errno: syscall.EINVAL,
			Message: fmt.Sprintf("keel: WithStopSignal: bad signal %d (a signal number from 1 to 64)", int(sig))}
	}
	var cerr *C.keel_error
	return check(C.keel_container_set_stop_signal(c.h, n, &cerr), &cerr)
}

// configureImage applies WithImage's image before the other options, so that they win.
func (c *Container) configureImage(s *settings) error {
	spec := s.image
	if s.rootfs != "" || len(s.layers) > 0 {
		return fmt.Errorf("keel: NewContainer: WithImage excludes WithRootfs and WithLayers (the image is the root filesystem)")
	}
	if spec.store == nil {
		return fmt.Errorf("keel: NewContainer: WithImage without an image store")
	}
	img := spec.img
	if img == nil {
		var err error
		if img, err = spec.store.Open(spec.ref); err != nil {
			return err
		}
		defer img.Close()
	}
	return spec.store.locked(img, func(sh *C.keel_image_store, i *C.keel_image) error {
		var cerr *C.keel_error
		return check(applyImage(sh, i, c.h, spec.cmd, &cerr), &cerr)
	})
}

func (c *Container) locker() *sync.Mutex { return &c.mu }
func (c *Container) isOpen() bool        { return c.h != nil }

// lock takes the handle's mutex and checks it is still open.
func (c *Container) lock() error {
	c.mu.Lock()
	if c.h == nil {
		c.mu.Unlock()
		return os.ErrClosed
	}
	return nil
}

// call runs one fallible libkeel call on the handle under its mutex.
func (c *Container) call(f func(h *C.keel_container, cerr **C.keel_error) C.int) error {
	if err := c.lock(); err != nil {
		return err
	}
	defer c.mu.Unlock()
	var cerr *C.keel_error
	return check(f(c.h, &cerr), &cerr)
}

// ID is the container's id ("" after Close).
func (c *Container) ID() string {
	if c.lock() != nil {
		return ""
	}
	defer c.mu.Unlock()
	return C.GoString(C.keel_container_id(c.h))
}

// StateRoot is the directory the container's state lives in.
func (c *Container) StateRoot() string {
	if c.lock() != nil {
		return ""
	}
	defer c.mu.Unlock()
	return C.GoString(C.keel_container_state_root(c.h))
}

// Pid is the init's pid on the host, 0 before create (keel_container_pid).
func (c *Container) Pid() int {
	if c.lock() != nil {
		return 0
	}
	defer c.mu.Unlock()
	return int(C.keel_container_pid(c.h))
}

// StopSignal is the signal that stops the container
// (keel_container_stop_signal): what WithStopSignal or the image's
// StopSignal set or, for a LoadContainer handle, what its create recorded;
// SIGTERM by default, 0 after Close.
func (c *Container) StopSignal() syscall.Signal {
	if c.lock() != nil {
		return 0
	}
	defer c.mu.Unlock()
	return syscall.Signal(C.keel_container_stop_signal(c.h))
}

// CreatedAt is when the container was created (zero time before create).
func (c *Container) CreatedAt() time.Time {
	if c.lock() != nil {
		return time.Time{}
	}
	defer c.mu.Unlock()
	return unixOrZero(int64(C.keel_container_created_at(c.h)))
}

// StartedAt is when the container was started (zero time when not started).
func (c *Container) StartedAt() time.Time {
	if c.lock() != nil {
		return time.Time{}
	}
	defer c.mu.Unlock()
	return unixOrZero(int64(C.keel_container_started_at(c.h)))
}

func unixOrZero(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

// Create sets the container up; its init waits before exec (keel_container_create).
func (c *Container) Create() error {
	return c.spawn(func(h *C.keel_container, cerr **C.keel_error) C.int { return C.keel_container_create(h, cerr) })
}

// Start lets a created container's init exec its command (keel_container_start).
func (c *Container) Start() error {
	return c.call(func(h *C.keel_container, cerr **C.keel_error) C.int { return C.keel_container_start(h, cerr) })
}

// Run is Create then Start; nothing is left when it fails (keel_container_run).
func (c *Container) Run() error {
	return c.spawn(func(h *C.keel_container, cerr **C.keel_error) C.int { return C.keel_container_run(h, cerr) })
}

func (c *Container) spawn(f func(h *C.keel_container, cerr **C.keel_error) C.int) error {
	err := c.call(f)
	if c.stdio != nil {
		keepFilesAlive(c.stdio)
		c.stdio = nil
	}
	return err
}

// Poll returns the init's exit status if it has ended, without blocking.
func (c *Container) Poll() (*ExitStatus, error) {
	var code, sig C.int
	var ended C.int
	err := c.call(func(h *C.keel_container, cerr **C.keel_error) C.int {
		ended = C.keel_container_wait(h, C.KEEL_WAIT_NOHANG, &code, &sig, cerr)
		return ended
	})
	if err != nil || ended == 0 {
		return nil, err
	}
	return &ExitStatus{Code: int(code), Signal: syscall.Signal(sig)}, nil
}

// Wait waits for the init to end, or for ctx to be done (then it returns
// ctx.Err() and the container keeps running). In the creating process the
// init is reaped and its exit code recorded (keel_container_wait). It polls
// with a short backoff so that Kill from another goroutine is not blocked.
func (c *Container) Wait(ctx context.Context) (ExitStatus, error) {
	return pollUntil(ctx, c.Poll)
}

// ExitStatus says how the init ended; ok is false when that is not known
// (still running, or reaped by a process that did not record it).
func (c *Container) ExitStatus() (st ExitStatus, ok bool, err error) {
	var code, sig C.int
	err = c.call(func(h *C.keel_container, cerr **C.keel_error) C.int {
		return C.keel_container_exit_code(h, &code, &sig, cerr)
	})
	if errors.Is(err, syscall.ENODATA) {
		return ExitStatus{}, false, nil
	}
	if err != nil {
		return ExitStatus{}, false, err
	}
	return ExitStatus{Code: int(code), Signal: syscall.Signal(sig)}, true, nil
}

// State is the container's state, checked against the kernel (keel_container_state).
func (c *Container) State() (State, error) {
	var s C.int
	err := c.call(func(h *C.keel_container, cerr **C.keel_error) C.int { return C.keel_container_state(h, &s, cerr) })
	return State(s), err
}

// Kill sends a signal to the init (keel_container_kill).
func (c *Container) Kill(sig syscall.Signal) error {
	return c.call(func(h *C.keel_container, cerr **C.keel_error) C.int {
		return C.keel_container_kill(h, C.int(sig), 0, cerr)
	})
}

// KillAll sends a signal to every process of the container (KEEL_KILL_ALL).
func (c *Container) KillAll(sig syscall.Signal) error {
	return c.call(func(h *C.keel_container, cerr **C.keel_error) C.int {
		return C.keel_container_kill(h, C.int(sig), C.KEEL_KILL_ALL, cerr)
	})
}

// Pause freezes every process of the container (keel_container_pause).
func (c *Container) Pause() error {
	return c.call(func(h *C.keel_container, cerr **C.keel_error) C.int { return C.keel_container_pause(h, cerr) })
}

// Resume thaws a paused container (keel_container_resume).
func (c *Container) Resume() error {
	return c.call(func(h *C.keel_container, cerr **C.keel_error) C.int { return C.keel_container_resume(h, cerr) })
}

// Exec runs a process inside the running container, like `docker exec`
// (keel_container_exec). Options: WithEnv, WithCwd, WithUser, WithTTY,
// WithStdio ... Wait for the returned Process and Close it.
func (c *Container) Exec(args []string, opts ...Option) (*Process, error) {
	s, err := collect(append([]Option{WithArgs(args...)}, opts...))
	if err != nil {
		return nil, err
	}
	if err := s.onlyProcess("Exec"); err != nil {
		return nil, err
	}
	var p *C.keel_process
	var cerr *C.keel_error
	if err := check(C.keel_process_new(&p, &cerr), &cerr); err != nil {
		return nil, err
	}
	defer C.keel_process_free(p)
	if err := applyProcess(p, s); err != nil {
		return nil, err
	}
	var child *C.keel_child
	err = c.call(func(h *C.keel_container, cerr **C.keel_error) C.int {
		return C.keel_container_exec(h, p, &child, cerr)
	})
	keepFilesAlive(s)
	if err != nil {
		return nil, err
	}
	return newProcess(child), nil
}

// Layers are the image layers, lowest first (keel_container_layers).
func (c *Container) Layers() ([]string, error) {
	var l **C.char
	err := c.call(func(h *C.keel_container, cerr **C.keel_error) C.int { return C.keel_container_layers(h, &l, cerr) })
	if err != nil {
		return nil, err
	}
	defer C.keel_container_strv_free(l)
	return goStrv(l), nil
}

// UpperUsage is the disk usage of the writable layer in bytes.
func (c *Container) UpperUsage() (uint64, error) {
	var v C.uint64_t
	err := c.call(func(h *C.keel_container, cerr **C.keel_error) C.int { return C.keel_container_upper_usage(h, &v, cerr) })
	return uint64(v), err
}

// Cgroup is the container's cgroup, owned by the container (do not Close
// it; it stops working when the container is closed or deleted), or nil
// before create.
func (c *Container) Cgroup() *Cgroup {
	if c.lock() != nil {
		return nil
	}
	defer c.mu.Unlock()
	h := C.keel_container_cgroup(c.h)
	if h == nil {
		return nil
	}
	if c.cgroup == nil || c.cgroup.h != h {
		c.cgroup = &Cgroup{h: h, owner: c}
	}
	return c.cgroup
}

// Delete removes the container: with DeleteForce its processes first, then
// the writable layer (unless DeleteKeepUpper), the cgroup, the host end of
// its veth and its state (keel_container_delete). The handle then only
// needs Close.
func (c *Container) Delete(flags ...DeleteFlag) error {
	var f DeleteFlag
	for _, x := range flags {
		f |= x
	}
	err := c.call(func(h *C.keel_container, cerr **C.keel_error) C.int {
		return C.keel_container_delete(h, C.uint(f), cerr)
	})
	if err == nil {
		c.mu.Lock()
		if c.cgroup != nil {
			c.cgroup.detach()
		}
		c.cgroup = nil
		c.mu.Unlock()
	}
	return err
}

// Close frees the handle: memory and fds only, the container stays. Safe
// to call more than once.
func (c *Container) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.h == nil {
		return nil
	}
	if c.cgroup != nil {
		c.cgroup.detach()
		c.cgroup = nil
	}
	C.keel_container_free(c.h)
	c.h = nil
	runtime.SetFinalizer(c, nil)
	return nil
}
