"""Networking over netlink (keel/net.h): bridges, veth pairs, addresses, routes.

Everything happens in a :class:`NetNS`, a netlink connection bound to one
network namespace (the caller's, a process's, or one given by an fd). The
calling thread never changes namespace.

>>> with keel.net.NetNS.open_pid(pid) as ns, ns.bridge("br0") as br:
...     ns.link_set_up("br0")
...     with ns.veth("v0", "v1") as v:
...         ns.link_set_master(v.name, br.name)
"""

import ctypes
from typing import NamedTuple, Optional, Tuple

from ._lib import F, Handle, call, enc, take_string, take_strv


class LinkState(NamedTuple):
    """A link's state as the kernel reports it (keel_net_link_state)."""
    up: bool
    running: bool
    mtu: int
    mac: str


class LinkStats(NamedTuple):
    """A link's counters (keel_net_link_stats)."""
    rx_bytes: int
    tx_bytes: int
    rx_packets: int
    tx_packets: int


class NetNS(Handle):
    """A netlink connection inside one network namespace (keel_netns).

    Make one with :meth:`open_current`, :meth:`open_pid` or :meth:`open_fd`;
    free it with :meth:`close` or a ``with`` block.
    """

    _free, _what = "keel_netns_free", "net.NetNS"

    def __init__(self, handle):
        self._h = handle

    @classmethod
    def _open(cls, fn, *args):
        h = ctypes.c_void_p()
        call(fn, ctypes.byref(h), *args)
        return cls(h)

    @classmethod
    def open_current(cls) -> "NetNS":
        """The calling thread's network namespace."""
        return cls._open(F.keel_netns_open_current)

    @classmethod
    def open_pid(cls, pid: int) -> "NetNS":
        """The network namespace of a process."""
        return cls._open(F.keel_netns_open_pid, pid)

    @classmethod
    def open_fd(cls, fd: int) -> "NetNS":
        """A network namespace given by an fd (``/run/netns/NAME`` opened); the fd is not kept."""
        return cls._open(F.keel_netns_open_fd, fd)

    # -- links
    def bridge_create(self, name: str) -> None:
        """Create a bridge (down, no address)."""
        call(F.keel_net_bridge_create, self._handle(), enc(name))

    def bridge_delete(self, name: str) -> None:
        """Delete a bridge; its ports are detached."""
        call(F.keel_net_bridge_delete, self._handle(), enc(name))

    def bridge(self, name: str) -> "Bridge":
        """Create a bridge and return a :class:`Bridge` whose ``with`` block deletes it."""
        self.bridge_create(name)
        return Bridge(self, name)

    def veth_create(self, name: Optional[str] = None,
                    peer_name: Optional[str] = None) -> Tuple[str, str]:
        """Create a veth pair; None names are generated. Returns (name, peer)."""
        a, b = ctypes.c_void_p(), ctypes.c_void_p()
        call(F.keel_net_veth_create, self._handle(), enc(name), enc(peer_name),
             ctypes.byref(a), ctypes.byref(b))
        return take_string(a), take_string(b)

    def veth(self, name: Optional[str] = None, peer_name: Optional[str] = None) -> "Veth":
        """Create a veth pair and return a :class:`Veth` whose ``with`` block deletes it."""
        return Veth(self, *self.veth_create(name, peer_name))

    def link_exists(self, name: str) -> bool:
        """Whether a link of that name exists."""
        return bool(call(F.keel_net_link_exists, self._handle(), enc(name)))

    def link_delete(self, name: str) -> None:
        """Delete a link (a veth's peer goes with it)."""
        call(F.keel_net_link_delete, self._handle(), enc(name))

    def link_set_up(self, name: str) -> None:
        """Bring a link up."""
        call(F.keel_net_link_set_up, self._handle(), enc(name))

    def link_set_down(self, name: str) -> None:
        """Bring a link down."""
        call(F.keel_net_link_set_down, self._handle(), enc(name))

    def link_set_mtu(self, name: str, mtu: int) -> None:
        """Set a link's MTU."""
        call(F.keel_net_link_set_mtu, self._handle(), enc(name), mtu)

    def link_set_master(self, name: str, bridge: Optional[str]) -> None:
        """Attach a link to a bridge (None detaches it)."""
        call(F.keel_net_link_set_master, self._handle(), enc(name), enc(bridge))

    def link_move(self, name: str, target: "NetNS", new_name: Optional[str] = None) -> None:
        """Move a link into ``target`` and name it ``new_name`` there (None: "eth0")."""
        call(F.keel_net_link_move, self._handle(), enc(name), target._handle(), enc(new_name))

    def link_state(self, name: str) -> LinkState:
        """Read back a link's state."""
        up, running, mtu, mac = ctypes.c_int(), ctypes.c_int(), ctypes.c_uint(), ctypes.c_void_p()
        call(F.keel_net_link_state, self._handle(), enc(name), ctypes.byref(up),
             ctypes.byref(running), ctypes.byref(mtu), ctypes.byref(mac))
        return LinkState(bool(up.value), bool(running.value), mtu.value, take_string(mac) or "")

    def link_stats(self, name: str) -> LinkStats:
        """Read a link's counters."""
        v = [ctypes.c_uint64() for _ in range(4)]
        call(F.keel_net_link_stats, self._handle(), enc(name), *[ctypes.byref(x) for x in v])
        return LinkStats(*[x.value for x in v])

    # -- addresses and routes
    def addr_add(self, name: str, cidr: str) -> None:
        """Add an address ("10.0.0.2/24", "fd00::2/64") to a link."""
        call(F.keel_net_addr_add, self._handle(), enc(name), enc(cidr))

    def addr_del(self, name: str, cidr: str) -> None:
        """Remove an address from a link."""
        call(F.keel_net_addr_del, self._handle(), enc(name), enc(cidr))

    def addr_list(self, name: str) -> list:
        """The addresses of a link, as "addr/len" strings."""
        p = ctypes.c_void_p()
        call(F.keel_net_addr_list, self._handle(), enc(name), ctypes.byref(p))
        return take_strv(p, F.keel_net_strv_free)

    def route_add(self, dst: str, gateway: Optional[str] = None,
                  ifname: Optional[str] = None) -> None:
        """Add a route to ``dst`` ("default" or a prefix) via a gateway and/or a link."""
        call(F.keel_net_route_add, self._handle(), enc(dst), enc(gateway), enc(ifname))

    def route_del(self, dst: str, gateway: Optional[str] = None,
                  ifname: Optional[str] = None) -> None:
        """Delete a route."""
        call(F.keel_net_route_del, self._handle(), enc(dst), enc(gateway), enc(ifname))


class Bridge:
    """A bridge made by :meth:`NetNS.bridge`; the ``with`` block deletes it."""

    def __init__(self, ns: NetNS, name: str):
        self.ns = ns
        self.name = name

    def delete(self) -> None:
        """Delete the bridge."""
        self.ns.bridge_delete(self.name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.ns.link_exists(self.name):
            self.delete()


class Veth:
    """A veth pair made by :meth:`NetNS.veth`; the ``with`` block deletes it."""

    def __init__(self, ns: NetNS, name: str, peer: str):
        self.ns = ns
        self.name = name
        self.peer = peer

    def delete(self) -> None:
        """Delete the pair (both ends)."""
        self.ns.link_delete(self.name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.ns.link_exists(self.name):
            self.delete()
