package keel

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unsafe"
)

// unique returns a name no other run uses: prefix + 8 hex digits.
func unique(prefix string) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b)
}

func itoa(n int) string { return strconv.Itoa(n) }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// cgroup2Mount reads the cgroup2 mount point from /proc/self/mountinfo.
func cgroup2Mount(t *testing.T) string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		parts := strings.SplitN(s.Text(), " - ", 2)
		if len(parts) == 2 && strings.Fields(parts[1])[0] == "cgroup2" {
			return strings.Fields(parts[0])[4]
		}
	}
	return ""
}

// cgroupEvents reads cgroup.events from the kernel.
func cgroupEvents(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(readFile(t, filepath.Join(dir, "cgroup.events"))), "\n") {
		f := strings.Fields(l)
		m[f[0]] = f[1]
	}
	return m
}

// Host probes: what a test needs from the host (a tool, a kernel module, a
// filesystem), probed with the kernel and the tools directly, never through
// keel. Each gives "" when the host has it, else a reason; needs() skips
// with it and prints "SKIP: go/<test>: <reason>", which .ci/summary lists.

var probed sync.Map // probe key -> reason

func probeOnce(key string, probe func() string) string {
	if r, ok := probed.Load(key); ok {
		return r.(string)
	}
	r := probe()
	probed.Store(key, r)
	return r
}

func missingTools(names ...string) string {
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			return n + " is not installed"
		}
	}
	return ""
}

// missingLinkKind: can `ip link add` make one, in a throwaway network namespace?
func missingLinkKind(kind string) string {
	return probeOnce("link "+kind, func() string {
		if r := missingTools("unshare", "ip"); r != "" {
			return r
		}
		out, err := exec.Command("unshare", "--net", "ip", "link", "add", "kprobe0", "type", kind).CombinedOutput()
		if err != nil {
			return "cannot create a " + kind + " link in a new network namespace: " + strings.TrimSpace(string(out))
		}
		return ""
	})
}

// missingFS: fsopen(2) of the type, which loads its module on demand.
func missingFS(fstype string) string {
	return probeOnce("fs "+fstype, func() string {
		name, _ := syscall.BytePtrFromString(fstype)
		fd, _, errno := syscall.Syscall(430 /* SYS_fsopen */, uintptr(unsafe.Pointer(name)), 1, 0)
		if errno != 0 {
			return "no " + fstype + " filesystem in this kernel: fsopen: " + errno.Error()
		}
		syscall.Close(int(fd))
		return ""
	})
}

// needs skips the test, saying why, when a probe found something missing.
func needs(t *testing.T, missing ...string) {
	t.Helper()
	for _, m := range missing {
		if m != "" {
			fmt.Printf("SKIP: go/%s: %s\n", t.Name(), m)
			t.Skip(m)
		}
	}
}

func offered(t *testing.T, controller string) bool {
	for _, c := range strings.Fields(readFile(t, filepath.Join(cgroup2Mount(t), "cgroup.controllers"))) {
		if c == controller {
			return true
		}
	}
	return false
}

func TestVersion(t *testing.T) {
	v := Version()
	if len(strings.Split(v, ".")) != 3 {
		t.Fatalf("Version() = %q", v)
	}
	if err := CheckVersion(); err != nil {
		t.Fatal(err)
	}
	if VersionAtLeast(99, 0, 0) {
		t.Fatal("VersionAtLeast(99, 0, 0) is true")
	}
}

func TestFeaturesMatchTheKernel(t *testing.T) {
	f, err := ProbeFeatures()
	if err != nil {
		t.Fatal(err)
	}
	mnt := cgroup2Mount(t)
	if f.Cgroup2Path != mnt || f.Has[FeatureCgroup2] != (mnt != "") {
		t.Fatalf("cgroup2 %q %v, kernel says %q", f.Cgroup2Path, f.Has[FeatureCgroup2], mnt)
	}
	if mnt != "" {
		want := strings.Fields(readFile(t, filepath.Join(mnt, "cgroup.controllers")))
		if strings.Join(want, " ") != strings.Join(f.Cgroup2Controllers, " ") {
			t.Fatalf("controllers %v, kernel says %v", f.Cgroup2Controllers, want)
		}
	}
	_, err = os.Stat("/proc/self/ns/time")
	if f.Has[FeatureTimeNS] != (err == nil) {
		t.Fatalf("time ns %v, /proc/self/ns/time: %v", f.Has[FeatureTimeNS], err)
	}
	if FeatureClone3.String() != "clone3" {
		t.Fatalf("FeatureClone3.String() = %q", FeatureClone3.String())
	}
}

// checkErr asserts err is a *keel.Error with that errno, and that its
// message names what it should.
func checkErr(t *testing.T, err error, errno syscall.Errno, mentions string) *Error {
	t.Helper()
	var ke *Error
	if !errors.As(err, &ke) {
		t.Fatalf("got %v (%T), want a *keel.Error", err, err)
	}
	if ke.Errno != errno || !errors.Is(err, errno) {
		t.Fatalf("errno %d (%v), want %d: %s", ke.Errno, ke.Errno, errno, ke.Message)
	}
	if !strings.Contains(ke.Message, mentions) || err.Error() != ke.Message {
		t.Fatalf("message %q does not mention %q", ke.Message, mentions)
	}
	return ke
}
