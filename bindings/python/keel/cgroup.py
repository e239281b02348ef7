"""cgroup v2 (keel/cgroup.h): create, limit, read stats, freeze, kill, remove.

Values are in the kernel's units (bytes, microseconds, counts). ``None``
stands for the kernel's "max" (no limit), both as an argument and as a
result.
"""

import ctypes
from typing import Optional, Tuple

from ._lib import F, call, dec, enc, take_string
from .enums import CpuStat

_MAX = (1 << 64) - 1
#: KEEL_CGROUP_REMOVE_KILL
_REMOVE_KILL = 1


def _to_c(value):
    return _MAX if value is None else int(value)


def _from_c(value):
    return None if value == _MAX else value


def mount_path() -> str:
    """Where the cgroup2 hierarchy is mounted (keel_cgroup_mount_path)."""
    p = ctypes.c_void_p()
    call(F.keel_cgroup_mount_path, ctypes.byref(p))
    return take_string(p)


def default_parent() -> str:
    """The directory new cgroups go under by default (keel_cgroup_default_parent)."""
    p = ctypes.c_void_p()
    call(F.keel_cgroup_default_parent, ctypes.byref(p))
    return take_string(p)


class Cgroup:
    """A handle on one cgroup v2 directory.

    Make one with :meth:`create` or :meth:`open`; a container's cgroup
    comes from :attr:`Container.cgroup` (that one belongs to the container
    and lives as long as it). A ``with`` block on a cgroup made by
    :meth:`create` removes it at the end (killing what is left inside);
    on an opened one it only closes the handle.
    """

    def __init__(self, handle, owner=None, created=False):
        self._h = handle
        self._owner = owner      # a Container that owns the C handle, or None
        self._created = created

    @classmethod
    def create(cls, path: str, parent: Optional[str] = None) -> "Cgroup":
        """Create a cgroup ``path`` under ``parent`` (default: :func:`default_parent`)."""
        h = ctypes.c_void_p()
        call(F.keel_cgroup_create, ctypes.byref(h), enc(path), enc(parent))
        return cls(h, created=True)

    @classmethod
    def open(cls, path: str, parent: Optional[str] = None) -> "Cgroup":
        """Open an existing cgroup (``""`` opens ``parent`` itself)."""
        h = ctypes.c_void_p()
        call(F.keel_cgroup_open, ctypes.byref(h), enc(path), enc(parent))
        return cls(h)

    # -- identity and membership
    @property
    def path(self) -> str:
        """The cgroup's absolute path (keel_cgroup_path)."""
        return dec(F.keel_cgroup_path(self._handle()))

    def add_pid(self, pid: int) -> None:
        """Move a process into the cgroup (keel_cgroup_add_pid)."""
        call(F.keel_cgroup_add_pid, self._handle(), pid)

    def enable_controller(self, controller: str) -> None:
        """Enable a controller for this cgroup (keel_cgroup_enable_controller)."""
        call(F.keel_cgroup_enable_controller, self._handle(), enc(controller))

    # -- limits
    def set_memory_max(self, limit: Optional[int]) -> None:
        """Set memory.max in bytes, None for no limit."""
        call(F.keel_cgroup_set_memory_max, self._handle(), _to_c(limit))

    @property
    def memory_max(self) -> Optional[int]:
        """memory.max in bytes, None for no limit."""
        return self._get_u64(F.keel_cgroup_get_memory_max)

    def set_memory_high(self, limit: Optional[int]) -> None:
        """Set memory.high in bytes, None for no limit."""
        call(F.keel_cgroup_set_memory_high, self._handle(), _to_c(limit))

    @property
    def memory_high(self) -> Optional[int]:
        """memory.high in bytes, None for no limit."""
        return self._get_u64(F.keel_cgroup_get_memory_high)

    def set_pids_max(self, limit: Optional[int]) -> None:
        """Set pids.max, None for no limit."""
        call(F.keel_cgroup_set_pids_max, self._handle(), _to_c(limit))

    @property
    def pids_max(self) -> Optional[int]:
        """pids.max, None for no limit."""
        return self._get_u64(F.keel_cgroup_get_pids_max)

    def set_cpu_max(self, quota_us: Optional[int], period_us: int = 100000) -> None:
        """Set cpu.max: ``quota_us`` of CPU time (None: no limit) every ``period_us``."""
        call(F.keel_cgroup_set_cpu_max, self._handle(), _to_c(quota_us), period_us)

    @property
    def cpu_max(self) -> Tuple[Optional[int], int]:
        """cpu.max as (quota_us or None, period_us)."""
        q, p = ctypes.c_uint64(), ctypes.c_uint64()
        call(F.keel_cgroup_get_cpu_max, self._handle(), ctypes.byref(q), ctypes.byref(p))
        return _from_c(q.value), p.value

    def set_cpu_weight(self, weight: int) -> None:
        """Set cpu.weight (1-10000)."""
        call(F.keel_cgroup_set_cpu_weight, self._handle(), weight)

    @property
    def cpu_weight(self) -> int:
        """cpu.weight."""
        return self._get_u64(F.keel_cgroup_get_cpu_weight)

    def set_raw(self, key: str, value: str) -> None:
        """Write any interface file, such as ``memory.oom.group`` (keel_cgroup_set_raw)."""
        call(F.keel_cgroup_set_raw, self._handle(), enc(key), enc(value))

    def get_raw(self, key: str) -> str:
        """Read any interface file, such as ``cgroup.type`` (keel_cgroup_get_raw)."""
        p = ctypes.c_void_p()
        call(F.keel_cgroup_get_raw, self._handle(), enc(key), ctypes.byref(p))
        return take_string(p)

    # -- stats
    def cpu_stat(self, which: CpuStat = CpuStat.USAGE_USEC) -> int:
        """One cpu.stat field; the usage ones work without the cpu controller."""
        v = ctypes.c_uint64()
        call(F.keel_cgroup_get_cpu_stat, self._handle(), int(which), ctypes.byref(v))
        return v.value

    @property
    def memory_current(self) -> int:
        """memory.current in bytes (needs the memory controller)."""
        return self._get_u64(F.keel_cgroup_get_memory_current)

    @property
    def memory_peak(self) -> int:
        """memory.peak in bytes (needs the memory controller)."""
        return self._get_u64(F.keel_cgroup_get_memory_peak)

    def memory_stat(self, field: str) -> int:
        """One memory.stat field ("anon", "file" ...)."""
        v = ctypes.c_uint64()
        call(F.keel_cgroup_get_memory_stat, self._handle(), enc(field), ctypes.byref(v))
        return v.value

    @property
    def pids_current(self) -> int:
        """pids.current (needs the pids controller)."""
        return self._get_u64(F.keel_cgroup_get_pids_current)

    @property
    def populated(self) -> bool:
        """Whether a process is in the cgroup or below (cgroup.events)."""
        return self._get_bool(F.keel_cgroup_is_populated)

    @property
    def frozen(self) -> bool:
        """Whether the cgroup is frozen (cgroup.events)."""
        return self._get_bool(F.keel_cgroup_is_frozen)

    # -- freeze, kill, remove
    def freeze(self, timeout: Optional[float] = None) -> None:
        """Freeze the cgroup and wait until it is frozen (``timeout`` in seconds)."""
        call(F.keel_cgroup_freeze, self._handle(), _ms(timeout))

    def thaw(self, timeout: Optional[float] = None) -> None:
        """Thaw the cgroup and wait until it is thawed."""
        call(F.keel_cgroup_thaw, self._handle(), _ms(timeout))

    def kill(self) -> None:
        """SIGKILL every process in the cgroup and wait until it is empty."""
        call(F.keel_cgroup_kill, self._handle())

    def remove(self, kill: bool = False) -> None:
        """Remove the cgroup and its children; with ``kill``, kill their processes first."""
        call(F.keel_cgroup_remove, self._handle(), _REMOVE_KILL if kill else 0)

    # -- plumbing
    def _get_u64(self, fn):
        v = ctypes.c_uint64()
        call(fn, self._handle(), ctypes.byref(v))
        return _from_c(v.value)

    def _get_bool(self, fn):
        v = ctypes.c_int()
        call(fn, self._handle(), ctypes.byref(v))
        return bool(v.value)

    def _handle(self):
        if not self._h:
            raise ValueError("keel.Cgroup: used after close()")
        if self._owner is not None:
            self._owner._handle()   # the container must still be open
        return self._h

    def close(self) -> None:
        """Close the handle (the cgroup stays); idempotent."""
        if getattr(self, "_h", None):
            if self._owner is None:
                F.keel_cgroup_free(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            if self._created and self._h:
                self.remove(kill=True)
        finally:
            self.close()

    def __del__(self):
        self.close()

    def __repr__(self):
        return "<keel.Cgroup %s>" % (self.path if self._h else "closed")


def _ms(timeout):
    return -1 if timeout is None else int(timeout * 1000)
