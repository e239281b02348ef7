package keel

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testNetNS opens a network namespace held by a process this test starts
// (unshare --net), never the host's; it goes away with the process.
func testNetNS(t *testing.T) (*NetNS, int) {
	t.Helper()
	needs(t, missingTools("unshare", "nsenter", "ip"), missingLinkKind("veth"), missingLinkKind("bridge"))
	cmd := exec.Command("unshare", "--net", "sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := cmd.Process.Pid
	mine := nsInodeOf(t, os.Getpid())
	for i := 0; nsInodeOf(t, pid) == mine; i++ {
		if i == 500 {
			t.Fatal("unshare --net did not make a namespace")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ns, err := OpenNetNSPid(pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	return ns, pid
}

func nsInodeOf(t *testing.T, pid int) string {
	l, err := os.Readlink("/proc/" + itoa(pid) + "/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// ip runs `ip -o ARGS` inside the namespace of pid: the kernel's view.
func ip(t *testing.T, pid int, args ...string) string {
	t.Helper()
	out, err := exec.Command("nsenter", append([]string{"-t", itoa(pid), "-n", "ip", "-o"}, args...)...).Output()
	if err != nil {
		t.Fatalf("ip %v: %v", args, err)
	}
	return string(out)
}

func TestNetBridgeVethAddrRoute(t *testing.T) {
	ns, pid := testNetNS(t)
	br := unique("kb")
	if err := ns.BridgeCreate(br); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ip(t, pid, "link", "show", "type", "bridge"), br+":") {
		t.Fatal("bridge not in the kernel")
	}
	a, b, err := ns.VethCreate(unique("kv"), unique("kv"))
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ns.LinkSetMaster(a, br))
	must(ns.LinkSetUp(a))
	must(ns.LinkSetUp(b))
	must(ns.AddrAdd(b, "10.77.0.2/24"))
	must(ns.LinkSetMTU(b, 1400))
	must(ns.RouteAdd("10.78.0.0/16", "10.77.0.1", ""))
	if !strings.Contains(ip(t, pid, "link", "show", a), "master "+br) {
		t.Fatal("veth not attached")
	}
	if !strings.Contains(ip(t, pid, "addr", "show", b), "10.77.0.2/24") {
		t.Fatal("address not in the kernel")
	}
	if !strings.Contains(ip(t, pid, "link", "show", b), "mtu 1400") {
		t.Fatal("mtu not set")
	}
	if !strings.Contains(ip(t, pid, "route", "show"), "10.78.0.0/16 via 10.77.0.1") {
		t.Fatal("route not in the kernel")
	}
	st, err := ns.LinkState(b)
	if err != nil || !st.Up || st.MTU != 1400 || !strings.Contains(ip(t, pid, "link", "show", b), st.MAC) {
		t.Fatalf("LinkState %+v %v", st, err)
	}
	addrs, err := ns.AddrList(b)
	if err != nil || !strings.Contains(strings.Join(addrs, " "), "10.77.0.2/24") {
		t.Fatalf("AddrList %v %v", addrs, err)
	}
	must(ns.LinkDelete(a))
	must(ns.BridgeDelete(br))
	if out := ip(t, pid, "link", "show", "type", "veth") + ip(t, pid, "link", "show", "type", "bridge"); out != "" {
		t.Fatalf("left behind: %s", out)
	}
}

func TestNetErrors(t *testing.T) {
	ns, _ := testNetNS(t)
	br := unique("kb")
	if err := ns.BridgeCreate(br); err != nil {
		t.Fatal(err)
	}
	defer ns.BridgeDelete(br)
	checkErr(t, ns.BridgeCreate(br), syscall.EEXIST, br)
	missing := unique("kx")
	checkErr(t, ns.LinkDelete(missing), syscall.ENODEV, missing)
	checkErr(t, ns.BridgeCreate("a-name-longer-than-fifteen"), syscall.EINVAL, "a-name-longer-than-fifteen")
	ns.Close()
	if err := ns.LinkSetUp(br); err != os.ErrClosed {
		t.Fatalf("after Close: %v", err)
	}
}
