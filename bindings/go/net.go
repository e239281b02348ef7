package keel

/*
#include <stdlib.h>
#include <keel.h>
*/
import "C"

import (
	"os"
	"runtime"
	"sync"
)

// NetNS is a netlink connection inside one network namespace (keel_netns).
// The calling thread never changes namespace. Close it.
type NetNS struct {
	mu sync.Mutex
	h  *C.keel_netns
}

// LinkState is a link's state as the kernel reports it (keel_net_link_state).
type LinkState struct {
	Up      bool
	Running bool
	MTU     uint
	MAC     string
}

// LinkStats are a link's counters (keel_net_link_stats).
type LinkStats struct {
	RxBytes, TxBytes, RxPackets, TxPackets uint64
}

func newNetNS(open func(out **C.keel_netns, cerr **C.keel_error) C.int) (*NetNS, error) {
	if err := CheckVersion(); err != nil {
		return nil, err
	}
	var h *C.keel_netns
	var cerr *C.keel_error
	if err := check(open(&h, &cerr), &cerr); err != nil {
		return nil, err
	}
	ns := &NetNS{h: h}
	runtime.SetFinalizer(ns, (*NetNS).Close)
	return ns, nil
}

// OpenCurrentNetNS opens the calling thread's network namespace.
func OpenCurrentNetNS() (*NetNS, error) {
	return newNetNS(func(out **C.keel_netns, cerr **C.keel_error) C.int {
		return C.keel_netns_open_current(out, cerr)
	})
}

// OpenNetNSPid opens the network namespace of a process.
func OpenNetNSPid(pid int) (*NetNS, error) {
	return newNetNS(func(out **C.keel_netns, cerr **C.keel_error) C.int {
		return C.keel_netns_open_pid(out, C.pid_t(pid), cerr)
	})
}

// OpenNetNSFile opens the network namespace f refers to (an open
// /run/netns/NAME or /proc/PID/ns/net); f is not kept.
func OpenNetNSFile(f *os.File) (*NetNS, error) {
	defer runtime.KeepAlive(f)
	return newNetNS(func(out **C.keel_netns, cerr **C.keel_error) C.int {
		return C.keel_netns_open_fd(out, C.int(f.Fd()), cerr)
	})
}

// call runs one libkeel call with up to three string arguments ("" is NULL).
func (ns *NetNS) call(strs []string, f func(h *C.keel_netns, s []*C.char, cerr **C.keel_error) C.int) error {
	cs := make([]*C.char, len(strs))
	for i, s := range strs {
		cs[i] = cstr(s)
		defer freeStr(cs[i])
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.h == nil {
		return os.ErrClosed
	}
	var cerr *C.keel_error
	return check(f(ns.h, cs, &cerr), &cerr)
}

// BridgeCreate creates a bridge (down, no address).
func (ns *NetNS) BridgeCreate(name string) error {
	return ns.call([]string{name}, func(h *C.keel_netns, s []*C.char, e **C.keel_error) C.int {
		return C.keel_net_bridge_create(h, s[0], e)
	})
}

// BridgeDelete deletes a bridge; its ports are detached.
func (ns *NetNS) BridgeDelete(name string) error {
	return ns.call([]string{name}, func(h *C.keel_netns, s []*C.char, e **C.keel_error) C.int {
		return C.keel_net_bridge_delete(h, s[0], e)
	})
}

// VethCreate creates a veth pair ("" names are generated) and returns the names.
func (ns *NetNS) VethCreate(name, peer string) (string, string, error) {
	var a, b *C.char
	err := ns.call([]string{name, peer}, func(h *C.keel_netns, s []*C.char, e **C.keel_error) C.int {
		return C.keel_net_veth_create(h, s[0], s[1], &a, &b, e)
	})
	if err != nil {
		return "", "", err
	}
	return takeString(a), takeString(b), nil
}

// LinkExists reports whether a link of that name exists.
func (ns *NetNS) LinkExists(name string) (bool, error) {
	var r C.int
	err := ns.call([]string{name}, func(h *C.keel_netns, s []*C.char, e **C.keel_error) C.int {
		r = C.keel_net_link_exists(h, s[0], e)
		return r
	})
	return r == 1, err
}

// LinkDelete deletes a link (a veth's peer goes with it).
func (ns *NetNS) LinkDelete(name string) error {
	return ns.call([]string{name}, func(h *C.keel_netns, s []*C.char, e **C.keel_error) C.int {
		return C.keel_net_link_delete(h, s[0], e)
	})
}

// LinkSetUp brings a link up.
func (ns *NetNS) LinkSetUp(name string) error {
	return ns.call([]string{name}, func(h *C.keel_netns, s []*C.char, e **C.keel_error) C.int {
		return C.keel_net_link_set_up(h, s[0], e)
	})
}

// LinkSetDown brings a link down.
func (ns *NetNS) LinkSetDown(name string) error {
	return ns.call([]string{name}, func(h *C.keel_netns, s []*C.char, e **C.keel_error) C.int {
		return C.keel_net_link_set_down(h, s[0], e)
	})
}

// LinkSetMTU sets a link's MTU.
func (ns *NetNS) LinkSetMTU(name string, mtu uint) error {
	return ns.call([]string{name}, func(h *C.keel_netns, s []*C.char, e **C.keel_error) C.int {
		return C.keel_net_link_set_mtu(h, s[0], C.uint(mtu), e)
	})
}

// LinkSetMaster attaches a link to a bridge ("" detaches it).
func (ns *NetNS) LinkSetMaster(name, bridge string) error {
	return ns.call([]string{name, bridge}, func(h *C.keel_netns, s []*C.char, e **C.keel_error) C.int {
		return C.keel_net_link_set_master(h, s[0], s[1], e)
	})
}

// LinkMove moves a link into target and names it newName there ("" is "eth0").
func (ns *NetNS) LinkMove(name string, target *NetNS, newName string) error {
	target.mu.Lock()
	defer target.mu.Unlock()
	if target.h == nil {
		return os.ErrClosed
	}
	return ns.call([]string{name, newName}, func(h *C.keel_netns, s []*C.char, e **C.keel_error) C.int {
		return C.keel_net_link_move(h, s[0], target.h, s[1], e)
	})
}

// LinkState reads back a link's state.
func (ns *NetNS) LinkState(name string) (LinkState, error) {
	var up, running C.int
	var mtu C.uint
	var mac *C.char
	err := ns.call([]string{name}, func(h *C.keel_netns, s []*C.char, e **C.keel_error) C.int {
		return C.keel_net_link_state(h, s[0], &up, &running, &mtu, &mac, e)
	})
	if err != nil {
		return LinkState{}, err
	}
	return LinkState{Up: up == 1, Running: running == 1, MTU: uint(mtu), MAC: takeString(mac)}, nil
}

// LinkStats reads a link's counters.
func (ns *NetNS) LinkStats(name string) (LinkStats, error) {
	var rb, tb, rp, tp C.uint64_t
	err := ns.call([]string{name}, func(h *C.keel_netns, s []*C.char, e **C.keel_error) C.int {
		return C.keel_net_link_stats(h, s[0], &rb, &tb, &rp, &tp, e)
	})
	return LinkStats{uint64(rb), uint64(tb), uint64(rp), uint64(tp)}, err
}

// AddrAdd adds an address ("10.0.0.2/24", "fd00::2/64") to a link.
func (ns *NetNS) AddrAdd(name, cidr string) error {
	return ns.call([]string{name, cidr}, func(h *C.keel_netns, s []*C.char, e **C.keel_error) C.int {
		return C.keel_net_addr_add(h, s[0], s[1], e)
	})
}

// AddrDel removes an address from a link.
func (ns *NetNS) AddrDel(name, cidr string) error {
	return ns.call([]string{name, cidr}, func(h *C.keel_netns, s []*C.char, e **C.keel_error) C.int {
		return C.keel_net_addr_del(h, s[0], s[1], e)
	})
}

// AddrList returns the addresses of a link as "addr/len" strings.
func (ns *NetNS) AddrList(name string) ([]string, error) {
	var out **C.char
	err := ns.call([]string{name}, func(h *C.keel_netns, s []*C.char, e **C.keel_error) C.int {
		return C.keel_net_addr_list(h, s[0], &out, e)
	})
	if err != nil {
		return nil, err
	}
	defer C.keel_net_strv_free(out)
	return goStrv(out), nil
}

// RouteAdd adds a route to dst ("default" or a prefix) via gateway and/or
// ifname ("" for none).
func (ns *NetNS) RouteAdd(dst, gateway, ifname string) error {
	return ns.call([]string{dst, gateway, ifname}, func(h *C.keel_netns, s []*C.char, e **C.keel_error) C.int {
		return C.keel_net_route_add(h, s[0], s[1], s[2], e)
	})
}

// RouteDel deletes a route.
func (ns *NetNS) RouteDel(dst, gateway, ifname string) error {
	return ns.call([]string{dst, gateway, ifname}, func(h *C.keel_netns, s []*C.char, e **C.keel_error) C.int {
		return C.keel_net_route_del(h, s[0], s[1], s[2], e)
	})
}

// Close closes the netlink socket and the namespace fd. Safe to call twice.
func (ns *NetNS) Close() error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.h != nil {
		C.keel_netns_free(ns.h)
		ns.h = nil
		runtime.SetFinalizer(ns, nil)
	}
	return nil
}
