package keel

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testCgroup makes a cgroup removed (with its processes) when the test ends.
func testCgroup(t *testing.T) *Cgroup {
	t.Helper()
	cg, err := CreateCgroup(unique("kgo"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cg.Remove(true); err != nil {
			t.Error(err)
		}
		cg.Close()
	})
	return cg
}

// sleeper starts a process this test owns (never the test binary itself).
func sleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func TestCgroupErrors(t *testing.T) {
	name := unique("kgo")
	_, err := OpenCgroup(name, "")
	checkErr(t, err, syscall.ENOENT, name)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("errors.Is(err, fs.ErrNotExist) is false")
	}
	_, err = CreateCgroup("a/../b", "")
	checkErr(t, err, syscall.EINVAL, "a/../b")
}

func TestCgroupLifecycle(t *testing.T) {
	cg := testCgroup(t)
	mnt := cgroup2Mount(t)
	if st, err := os.Stat(cg.Path()); err != nil || !st.IsDir() || !strings.HasPrefix(cg.Path(), mnt) {
		t.Fatalf("cgroup %q: %v", cg.Path(), err)
	}
	cmd := sleeper(t)
	if err := cg.AddPid(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	want := "0::" + strings.TrimPrefix(cg.Path(), mnt) + "\n"
	if got := readFile(t, "/proc/"+itoa(cmd.Process.Pid)+"/cgroup"); !strings.Contains(got, want) {
		t.Fatalf("/proc/PID/cgroup %q, want %q", got, want)
	}
	if p, err := cg.Populated(); err != nil || !p || cgroupEvents(t, cg.Path())["populated"] != "1" {
		t.Fatalf("populated %v %v", p, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cg.Freeze(ctx); err != nil {
		t.Fatal(err)
	}
	if f, err := cg.Frozen(); err != nil || !f || cgroupEvents(t, cg.Path())["frozen"] != "1" {
		t.Fatalf("frozen %v %v", f, err)
	}
	if err := cg.Thaw(ctx); err != nil {
		t.Fatal(err)
	}
	if cgroupEvents(t, cg.Path())["frozen"] != "0" {
		t.Fatal("still frozen after Thaw")
	}
	if _, err := cg.CPUStat(CPUUsageUsec); err != nil {
		t.Fatal(err)
	}
	if procs, err := cg.GetRaw("cgroup.procs"); err != nil || procs != itoa(cmd.Process.Pid) {
		t.Fatalf("cgroup.procs %q %v", procs, err)
	}
	if err := cg.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); ws.Signal() != syscall.SIGKILL {
		t.Fatalf("sleeper ended with %v", ws)
	}
	path := cg.Path()
	if err := cg.Remove(false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("%s still exists: %v", path, err)
	}
}

func TestCgroupLimits(t *testing.T) {
	cg := testCgroup(t)
	for _, l := range []struct {
		controller, file, want string
		set                    func() error
	}{
		{"memory", "memory.max", "67108864", func() error { return cg.SetMemoryMax(64 << 20) }},
		{"pids", "pids.max", "20", func() error { return cg.SetPidsMax(20) }},
		{"cpu", "cpu.max", "50000 100000", func() error { return cg.SetCPUMax(50000, 100000) }},
	} {
		err := l.set()
		if offered(t, l.controller) {
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(readFile(t, filepath.Join(cg.Path(), l.file))); got != l.want {
				t.Fatalf("%s = %q, want %q", l.file, got, l.want)
			}
			continue
		}
		checkErr(t, err, syscall.ENOENT, "controller "+l.controller)
		if _, err := os.Stat(filepath.Join(cg.Path(), l.file)); !os.IsNotExist(err) {
			t.Fatalf("%s exists without its controller", l.file)
		}
	}
	if !offered(t, "memory") {
		_, err := cg.MemoryCurrent()
		checkErr(t, err, syscall.ENOENT, "memory")
	}
}
