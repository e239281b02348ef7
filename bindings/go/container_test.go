package keel

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func rootfs(t *testing.T) string {
	t.Helper()
	r := os.Getenv("KEEL_TEST_ROOTFS")
	if _, err := os.Stat(filepath.Join(r, "bin", "busybox")); err != nil {
		t.Fatalf("KEEL_TEST_ROOTFS is not a busybox rootfs: %q", r)
	}
	return r
}

// testContainer makes a container with a unique id in a state root of the
// test's own, on the busybox rootfs as an image layer; it is deleted (and
// its state root removed) when the test ends, even if the test fails.
func testContainer(t *testing.T, opts ...Option) *Container {
	t.Helper()
	needs(t, missingFS("overlay")) // the rootfs is an overlay layer
	root := t.TempDir()
	return cleanedContainer(t, append([]Option{WithStateRoot(root), WithLayers(rootfs(t))}, opts...)...)
}

// cleanedContainer makes a container with opts as they are, deleted (and
// closed) when the test ends, even if the test fails.
func cleanedContainer(t *testing.T, opts ...Option) *Container {
	t.Helper()
	c, err := NewContainer(unique("kgo"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c.Pid() != 0 {
			// ENOENT: the test deleted it already.
			if err := c.Delete(DeleteForce); err != nil && !errors.Is(err, syscall.ENOENT) {
				t.Error(err)
			}
		}
		c.Close()
	})
	return c
}

// wantLoadedStopSignal checks the stop signal of a handle loaded from c's
// state root: what the state on disk carries.
func wantLoadedStopSignal(t *testing.T, c *Container, want syscall.Signal) {
	t.Helper()
	other, err := LoadContainer(c.ID(), c.StateRoot())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if sig := other.StopSignal(); sig != want {
		t.Fatalf("loaded stop signal %v, want %v", sig, want)
	}
}

func ctx30(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func pipe(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

func nsInode(t *testing.T, pid int, ns string) string {
	t.Helper()
	l, err := os.Readlink("/proc/" + itoa(pid) + "/ns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestContainerRunReadsOutput(t *testing.T) {
	r, w := pipe(t)
	c := testContainer(t, WithArgs("sh", "-c", "echo hello from $(hostname); exit 3"),
		WithHostname("kgohost"), WithStdio(nil, w, os.Stderr))
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Wait(ctx30(t))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "hello from kgohost\n" || st != (ExitStatus{Code: 3}) {
		t.Fatalf("output %q, status %+v", out, st)
	}
	if s, err := c.State(); err != nil || s != StateStopped {
		t.Fatalf("state %v %v", s, err)
	}
	if st2, ok, err := c.ExitStatus(); err != nil || !ok || st2 != st {
		t.Fatalf("ExitStatus %+v %v %v", st2, ok, err)
	}
}

func TestContainerNamespacesAndExec(t *testing.T) {
	c := testContainer(t, WithArgs("sleep", "600"), WithHostname("kgoexec"))
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"pid", "mnt", "net", "uts", "ipc", "cgroup"} {
		if nsInode(t, c.Pid(), ns) == nsInode(t, os.Getpid(), ns) {
			t.Fatalf("container shares the %s namespace", ns)
		}
	}
	r, w := pipe(t)
	p, err := c.Exec([]string{"sh", "-c", "hostname; readlink /proc/self/ns/pid; echo $GREETING; pwd"},
		WithEnv("GREETING", "hi"), WithCwd("/tmp"), WithStdio(nil, w, os.Stderr))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	w.Close()
	out, _ := io.ReadAll(r)
	st, err := p.Wait(ctx30(t))
	if err != nil || st.Code != 0 {
		t.Fatalf("exec status %+v %v", st, err)
	}
	want := strings.Join([]string{"kgoexec", nsInode(t, c.Pid(), "pid"), "hi", "/tmp"}, "\n") + "\n"
	if string(out) != want {
		t.Fatalf("exec output %q, want %q", out, want)
	}

	_, err = c.Exec([]string{"/no/such/program"})
	checkErr(t, err, syscall.ENOENT, "/no/such/program")
	_, err = c.Exec([]string{"true"}, WithHostname("x"))
	if err == nil || !strings.Contains(err.Error(), "WithHostname") {
		t.Fatalf("Exec with a container option: %v", err)
	}
}

func TestContainerExecKillFromAnotherGoroutine(t *testing.T) {
	c := testContainer(t, WithArgs("sleep", "600"))
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	p, err := c.Exec([]string{"sleep", "600"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	var st ExitStatus
	var werr error
	go func() { defer wg.Done(); st, werr = p.Wait(ctx30(t)) }()
	if err := p.Kill(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if werr != nil || st.Signal != syscall.SIGTERM {
		t.Fatalf("exec ended %+v %v", st, werr)
	}
}

func TestContainerWaitHonoursContext(t *testing.T) {
	c := testContainer(t, WithArgs("sleep", "600"))
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := c.Wait(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Wait: %v, want context.DeadlineExceeded", err)
	}
	if s, err := c.State(); err != nil || s != StateRunning {
		t.Fatalf("state %v %v", s, err)
	}
	if err := c.Kill(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Wait(ctx30(t)); err != nil || st.Signal != syscall.SIGKILL {
		t.Fatalf("Wait %+v %v", st, err)
	}
}

func TestContainerCgroupStatsAndPause(t *testing.T) {
	c := testContainer(t, WithArgs("sleep", "600"))
	if c.Cgroup() != nil {
		t.Fatal("a cgroup before create")
	}
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	cg := c.Cgroup()
	mnt := cgroup2Mount(t)
	want := "0::" + strings.TrimPrefix(cg.Path(), mnt) + "\n"
	if got := readFile(t, "/proc/"+itoa(c.Pid())+"/cgroup"); !strings.Contains(got, want) {
		t.Fatalf("/proc/PID/cgroup %q, want %q", got, want)
	}
	if p, err := cg.Populated(); err != nil || !p {
		t.Fatalf("populated %v %v", p, err)
	}
	if _, err := cg.CPUStat(CPUUsageUsec); err != nil {
		t.Fatal(err)
	}
	if err := c.Pause(); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.State(); s != StatePaused || cgroupEvents(t, cg.Path())["frozen"] != "1" {
		t.Fatalf("after Pause: %v, %v", s, cgroupEvents(t, cg.Path()))
	}
	if err := c.Resume(); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.State(); s != StateRunning || cgroupEvents(t, cg.Path())["frozen"] != "0" {
		t.Fatalf("after Resume: %v", s)
	}
	path := cg.Path()
	if err := c.Delete(DeleteForce); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("cgroup %s left after Delete: %v", path, err)
	}
	if _, err := cg.Populated(); err != os.ErrClosed {
		t.Fatalf("the deleted container's cgroup handle: %v", err)
	}
	ids, err := ListContainers(c.StateRoot())
	if err != nil || len(ids) != 0 {
		t.Fatalf("containers left: %v %v", ids, err)
	}
}

func TestContainerLimitsFailClearly(t *testing.T) {
	for _, l := range []struct {
		controller string
		opt        Option
	}{
		{"memory", WithMemoryMax(64 << 20)},
		{"pids", WithPidsMax(32)},
		{"cpu", WithCPUMax(50000, 100000)},
	} {
		c := testContainer(t, WithArgs("true"), l.opt)
		err := c.Run()
		if offered(t, l.controller) {
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		checkErr(t, err, syscall.ENOENT, "controller "+l.controller)
		if ids, _ := ListContainers(c.StateRoot()); len(ids) != 0 {
			t.Fatalf("failed create left %v", ids)
		}
	}
}

func TestContainerLifecycleErrorsAndLoad(t *testing.T) {
	c := testContainer(t, WithArgs("sleep", "600"))
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.State(); s != StateCreated {
		t.Fatalf("state %v after Create", s)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	err := c.Start()
	var ke *Error
	if !errors.As(err, &ke) || ke.Code != ErrorState || !strings.Contains(ke.Message, c.ID()) ||
		!(errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.EINVAL)) {
		t.Fatalf("second Start: %#v", err)
	}
	checkErr(t, c.Delete(), syscall.EBUSY, c.ID())

	other, err := LoadContainer(c.ID(), c.StateRoot())
	if err != nil {
		t.Fatal(err)
	}
	if other.Pid() != c.Pid() {
		t.Fatalf("loaded pid %d, want %d", other.Pid(), c.Pid())
	}
	p, err := other.Exec([]string{"true"})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := p.Wait(ctx30(t)); err != nil || st.Code != 0 {
		t.Fatalf("exec from a loaded handle: %+v %v", st, err)
	}
	p.Close()
	other.Close()
	if s, _ := c.State(); s != StateRunning {
		t.Fatalf("closing a loaded handle changed the container: %v", s)
	}

	dup, err := NewContainer(c.ID(), WithStateRoot(c.StateRoot()), WithLayers(rootfs(t)), WithArgs("true"))
	if err != nil {
		t.Fatal(err)
	}
	defer dup.Close()
	checkErr(t, dup.Create(), syscall.EEXIST, c.ID())

	missing := unique("kgo")
	_, err = LoadContainer(missing, c.StateRoot())
	checkErr(t, err, syscall.ENOENT, missing)
	_, err = NewContainer("../etc")
	checkErr(t, err, syscall.EINVAL, "../etc")
}

func TestContainerStopSignalDefaultSetAndLoaded(t *testing.T) {
	if sig := testContainer(t, WithArgs("true")).StopSignal(); sig != syscall.SIGTERM {
		t.Fatalf("default stop signal %v, want SIGTERM", sig)
	}
	c := testContainer(t, WithArgs("sleep", "600"), WithStopSignal(syscall.SIGUSR2))
	if sig := c.StopSignal(); sig != syscall.SIGUSR2 {
		t.Fatalf("stop signal %v, want SIGUSR2", sig)
	}
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	wantLoadedStopSignal(t, c, syscall.SIGUSR2)
}

func TestContainerKillWithStopSignalReachesATrap(t *testing.T) {
	r, w := pipe(t)
	// The init is pid 1 of its namespace: the kernel drops a signal it has
	// no handler for, so exit 42 proves the trap ran on SIGUSR1.
	c := testContainer(t, WithArgs("sh", "-c", "trap 'exit 42' USR1; echo ready; while :; do sleep 0.1; done"),
		WithStopSignal(syscall.SIGUSR1), WithStdio(nil, w, os.Stderr))
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if line, err := bufio.NewReader(r).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("init said %q %v", line, err)
	}
	other, err := LoadContainer(c.ID(), c.StateRoot())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Kill(other.StopSignal()); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Wait(ctx30(t)); err != nil || st != (ExitStatus{Code: 42}) {
		t.Fatalf("after the stop signal: %+v %v", st, err)
	}
}

func TestContainerBadStopSignal(t *testing.T) {
	needs(t, missingFS("overlay"))
	for _, bad := range []syscall.Signal{0, 65, -1} {
		_, err := NewContainer(unique("kgo"), WithStateRoot(t.TempDir()), WithLayers(rootfs(t)),
			WithArgs("true"), WithStopSignal(bad))
		ke := checkErr(t, err, syscall.EINVAL, "bad signal "+itoa(int(bad))+" (a signal number from 1 to 64)")
		if ke.Code != ErrorInvalid {
			t.Fatalf("code %v for signal %d", ke.Code, bad)
		}
	}
	// Beyond a C int, not truncated to a good number (1<<32 + 15 is not SIGTERM).
	_, err := NewContainer(unique("kgo"), WithStateRoot(t.TempDir()), WithLayers(rootfs(t)),
		WithArgs("true"), WithStopSignal(syscall.Signal(1<<32+15)))
	checkErr(t, err, syscall.EINVAL, "bad signal 4294967311")
}

func TestContainerHandleSharedByGoroutines(t *testing.T) {
	c := testContainer(t, WithArgs("sleep", "600"))
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := c.Exec([]string{"true"})
			if err != nil {
				errs <- err
				return
			}
			defer p.Close()
			if st, err := p.Wait(context.Background()); err != nil || st.Code != 0 {
				errs <- err
			}
			if _, err := c.State(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
