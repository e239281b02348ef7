package keel

/*
#include <stdlib.h>
#include <keel.h>
*/
import "C"

import (
	"context"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// ExitStatus says how a process ended: Code 0-255, or -1 when Signal ended
// it (or the status is not known in this process).
type ExitStatus struct {
	Code   int
	Signal syscall.Signal
}

// Success reports whether the process exited with code 0.
func (s ExitStatus) Success() bool { return s.Code == 0 }

// applyProcess fills a keel_process from settings, one documented call per field.
func applyProcess(p *C.keel_process, s *settings) error {
	var cerr *C.keel_error
	if s.args != nil {
		argv := cArgv(s.args)
		err := check(C.keel_process_set_args(p, argv, &cerr), &cerr)
		freeArgv(argv, len(s.args))
		if err != nil {
			return err
		}
	}
	if s.clearEnv {
		if err := check(C.keel_process_clearenv(p, &cerr), &cerr); err != nil {
			return err
		}
	}
	for _, e := range s.env {
		name := C.CString(e.name)
		var ret C.int
		if e.unset {
			ret = C.keel_process_unsetenv(p, name, &cerr)
		} else {
			value := C.CString(e.value)
			ret = C.keel_process_setenv(p, name, value, &cerr)
			freeStr(value)
		}
		freeStr(name)
		if err := check(ret, &cerr); err != nil {
			return err
		}
	}
	if s.cwd != "" {
		cwd := C.CString(s.cwd)
		err := check(C.keel_process_set_cwd(p, cwd, &cerr), &cerr)
		freeStr(cwd)
		if err != nil {
			return err
		}
	}
	if s.user != nil {
		if err := check(C.keel_process_set_user(p, C.uid_t(s.user[0]), C.gid_t(s.user[1]), &cerr), &cerr); err != nil {
			return err
		}
	}
	if s.tty {
		if err := check(C.keel_process_set_tty(p, 1, &cerr), &cerr); err != nil {
			return err
		}
	}
	if s.stdio != nil {
		var fds [3]C.int
		for i, f := range s.stdio {
			fds[i] = -1 // /dev/null
			if f != nil {
				fds[i] = C.int(f.Fd())
			}
		}
		if err := check(C.keel_process_set_stdio(p, fds[0], fds[1], fds[2], &cerr), &cerr); err != nil {
			return err
		}
	}
	return nil
}

// keepFilesAlive keeps the stdio files from being finalized (and closed)
// before the call that duplicates their fds has returned.
func keepFilesAlive(s *settings) {
	if s.stdio != nil {
		for _, f := range s.stdio {
			runtime.KeepAlive(f)
		}
	}
}

// Process is a process libkeel started, such as an exec into a container
// (a keel_child). It is the caller's child: Wait reaps it. Close kills and
// reaps it if it still runs, so no process or zombie is left behind.
type Process struct {
	mu     sync.Mutex
	h      *C.keel_child
	status *ExitStatus
}

func newProcess(h *C.keel_child) *Process {
	p := &Process{h: h}
	runtime.SetFinalizer(p, (*Process).Close)
	return p
}

// Pid is the process id as seen by the caller (keel_child_pid); -1 after Close.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.h == nil {
		return -1
	}
	return int(C.keel_child_pid(p.h))
}

// Poll returns the exit status if the process has ended, without blocking.
func (p *Process) Poll() (*ExitStatus, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waitLocked(C.KEEL_WAIT_NOHANG)
}

func (p *Process) waitLocked(flags C.int) (*ExitStatus, error) {
	if p.status != nil {
		return p.status, nil
	}
	if p.h == nil {
		return nil, os.ErrClosed
	}
	var code, sig C.int
	var cerr *C.keel_error
	ret := C.keel_child_wait(p.h, flags, &code, &sig, &cerr)
	if ret < 0 {
		return nil, takeError(ret, cerr)
	}
	if ret == 0 {
		return nil, nil
	}
	p.status = &ExitStatus{Code: int(code), Signal: syscall.Signal(sig)}
	return p.status, nil
}

// Wait waits until the process ends and reaps it, or until ctx is done
// (then it returns ctx.Err() and the process keeps running). It polls
// keel_child_wait(KEEL_WAIT_NOHANG) with a short backoff, so other
// goroutines can Kill the process meanwhile.
func (p *Process) Wait(ctx context.Context) (ExitStatus, error) {
	return pollUntil(ctx, p.Poll)
}

// Kill sends a signal through the pidfd (keel_child_kill).
func (p *Process) Kill(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.h == nil {
		return os.ErrClosed
	}
	var cerr *C.keel_error
	return check(C.keel_child_kill(p.h, C.int(sig), &cerr), &cerr)
}

// Close kills (SIGKILL) and reaps the process if it still runs, then frees
// the handle. Safe to call more than once.
func (p *Process) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.h == nil {
		return nil
	}
	var err error
	if st, werr := p.waitLocked(C.KEEL_WAIT_NOHANG); werr == nil && st == nil {
		var cerr *C.keel_error
		if err = check(C.keel_child_kill(p.h, C.int(syscall.SIGKILL), &cerr), &cerr); err == nil {
			_, err = p.waitLocked(0)
		}
	}
	C.keel_child_free(p.h)
	p.h = nil
	runtime.SetFinalizer(p, nil)
	return err
}

// pollUntil calls poll with a backoff from 1ms to 50ms until it reports an
// ended process, fails, or ctx is done.
func pollUntil(ctx context.Context, poll func() (*ExitStatus, error)) (ExitStatus, error) {
	delay := time.Millisecond
	for {
		st, err := poll()
		if err != nil {
			return ExitStatus{}, err
		}
		if st != nil {
			return *st, nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ExitStatus{}, ctx.Err()
		case <-t.C:
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}
