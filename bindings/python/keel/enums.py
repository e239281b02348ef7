"""Enumerations shared by the classes: namespaces, signals, states, features."""

import enum
import signal as _signal

#: Signals, as the standard library names them (``keel.Signal.SIGTERM``).
Signal = _signal.Signals


class Namespace(enum.IntFlag):
    """Namespace types (``enum keel_ns_type``), combined with ``|``."""
    MOUNT = 1 << 0
    PID = 1 << 1
    NET = 1 << 2
    IPC = 1 << 3
    UTS = 1 << 4
    USER = 1 << 5
    CGROUP = 1 << 6
    TIME = 1 << 7


#: What a container gets unless told otherwise (keel/container.h).
DEFAULT_NAMESPACES = (Namespace.MOUNT | Namespace.PID | Namespace.UTS | Namespace.IPC
                      | Namespace.NET | Namespace.CGROUP)


class ContainerState(enum.IntEnum):
    """A container's state (``enum keel_container_state``)."""
    CREATING = 1
    CREATED = 2
    RUNNING = 3
    PAUSED = 4
    STOPPED = 5


class Feature(enum.IntEnum):
    """A feature of the kernel or the build (``enum keel_feature``)."""
    CLONE3 = 1
    PIDFD = 2
    CGROUP2 = 3
    OVERLAYFS = 4
    IDMAPPED_MOUNTS = 5
    TIME_NS = 6
    USER_NS = 7
    SECCOMP_NOTIFY = 8
    OPENAT2 = 9
    CGROUP_KILL = 10
    NEWUIDMAP = 11
    APPARMOR = 12
    SELINUX = 13
    CGROUP_NS = 14


class CpuStat(enum.IntEnum):
    """cpu.stat fields (``enum keel_cgroup_cpu_stat``)."""
    USAGE_USEC = 1
    USER_USEC = 2
    SYSTEM_USEC = 3
    NR_PERIODS = 4
    NR_THROTTLED = 5
    THROTTLED_USEC = 6
