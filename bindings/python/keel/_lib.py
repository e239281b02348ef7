"""Loading libkeel.so.1 and calling it: the one place that knows about ctypes.

The library is looked for, in this order:

1. ``$KEEL_LIBRARY``: a path to the shared object (``.../libkeel.so.1``);
2. the build tree: ``$KEEL_TOP_BUILDDIR/.libs/libkeel.so.1``, then the
   ``.libs`` of an in-tree build next to this package (``../../../.libs``);
3. the installed library: ``libkeel.so.1`` through the dynamic loader's
   search path, then the ``libdir`` that ``pkg-config keel`` names, then
   ``ctypes.util.find_library("keel")``.

The loaded library must be at least :data:`REQUIRED_VERSION`
(``keel_version_at_least``), else importing :mod:`keel` fails with an
ImportError that says which file was found and what version it is.

Every C function is declared once, with its exact prototype. A function
that the loaded library does not export (an older or partial build) is
replaced by a stub that raises :class:`keel.KeelError` with ENOSYS and
names the symbol, so the rest of the binding keeps working; :func:`has`
tells which symbols are there.

ctypes.CDLL releases the GIL around every foreign call, so a long call
(a container's wait, a cgroup freeze) does not block other Python threads.
"""

import ctypes
import ctypes.util
import errno as _errno
import os
import subprocess

#: The oldest libkeel this binding was written for.
REQUIRED_VERSION = (1, 0, 0)
SONAME = "libkeel.so.1"

c_int = ctypes.c_int
c_uint = ctypes.c_uint
c_u64 = ctypes.c_uint64
c_i64 = ctypes.c_int64
c_str = ctypes.c_char_p
c_ptr = ctypes.c_void_p
P = ctypes.POINTER
ERRP = P(c_ptr)  # keel_error **

#: ``KEEL_WAIT_NOHANG`` of keel/spawn.h.
WAIT_NOHANG = 1


def _candidates():
    env = os.environ.get("KEEL_LIBRARY")
    if env:
        # An explicit choice is the only one: never fall back silently.
        yield env
        return
    builddir = os.environ.get("KEEL_TOP_BUILDDIR")
    if builddir:
        yield os.path.join(builddir, ".libs", SONAME)
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.normpath(os.path.join(here, "..", "..", "..", ".libs", SONAME))
    yield SONAME
    try:
        libdir = subprocess.run(["pkg-config", "--variable=libdir", "keel"],
                                capture_output=True, text=True, check=True).stdout.strip()
        if libdir:
            yield os.path.join(libdir, SONAME)
    except (OSError, subprocess.CalledProcessError):
        pass
    found = ctypes.util.find_library("keel")
    if found:
        yield found


def _load():
    tried = []
    for cand in _candidates():
        if os.sep in cand and not os.path.exists(cand):
            tried.append(cand + " (missing)")
            continue
        try:
            return ctypes.CDLL(cand), cand
        except OSError as e:
            tried.append("%s (%s)" % (cand, e))
    raise ImportError("keel: cannot load %s; tried: %s. Set KEEL_LIBRARY to its path."
                      % (SONAME, "; ".join(tried) or "nothing"))


lib, path = _load()

lib.keel_version.restype = c_str
lib.keel_version.argtypes = []
lib.keel_version_at_least.restype = c_int
lib.keel_version_at_least.argtypes = [c_int, c_int, c_int]
if not lib.keel_version_at_least(*REQUIRED_VERSION):
    raise ImportError("keel: %s is libkeel %s; this binding needs %d.%d.%d or newer"
                      % (path, lib.keel_version().decode(), *REQUIRED_VERSION))

libc = ctypes.CDLL(None)
libc.free.restype = None
libc.free.argtypes = [c_ptr]

_missing = set()


def has(name):
    """Whether the loaded libkeel exports the C function ``name``."""
    return hasattr(lib, name) and name not in _missing


def _declare(name, restype, argtypes):
    try:
        fn = getattr(lib, name)
    except AttributeError:
        _missing.add(name)

        def stub(*_args):
            from .errors import KeelError
            raise KeelError(_errno.ENOSYS, "%s: not in %s (libkeel %s was built without it)"
                            % (name, path, lib.keel_version().decode()))
        stub.__name__ = name
        return stub
    fn.restype = restype
    fn.argtypes = argtypes
    return fn


class _Funcs:
    """The C functions, as attributes: ``F.keel_container_new(...)``."""


F = _Funcs()


class Handle:
    """An owned libkeel handle in ``self._h``: :meth:`close` frees it once
    with the class's ``_free`` function (a name in :data:`F`), and so do a
    ``with`` block and garbage collection."""

    _free = ""
    _what = "handle"
    _h = None

    def _handle(self):
        if not self._h:
            raise ValueError("keel.%s: used after close()" % self._what)
        return self._h

    def close(self) -> None:
        """Free the handle; idempotent."""
        if getattr(self, "_h", None):
            getattr(F, self._free)(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

# Every prototype the binding uses, copied from include/keel/*.h.
_PROTOTYPES = [
    # error.h
    ("keel_error_code", c_int, [c_ptr]),
    ("keel_error_errno", c_int, [c_ptr]),
    ("keel_error_message", c_str, [c_ptr]),
    ("keel_error_free", None, [c_ptr]),
    # version.h
    ("keel_version", c_str, []),
    ("keel_version_at_least", c_int, [c_int, c_int, c_int]),
    # features.h
    ("keel_features_probe", c_int, [P(c_ptr), ERRP]),
    ("keel_features_has", c_int, [c_ptr, c_int]),
    ("keel_feature_name", c_str, [c_int]),
    ("keel_features_cgroup2_path", c_str, [c_ptr]),
    ("keel_features_cgroup2_controllers", c_str, [c_ptr]),
    ("keel_features_free", None, [c_ptr]),
    # process.h
    ("keel_process_new", c_int, [P(c_ptr), ERRP]),
    ("keel_process_free", None, [c_ptr]),
    ("keel_process_set_args", c_int, [c_ptr, P(c_str), ERRP]),
    ("keel_process_setenv", c_int, [c_ptr, c_str, c_str, ERRP]),
    ("keel_process_unsetenv", c_int, [c_ptr, c_str, ERRP]),
    ("keel_process_clearenv", c_int, [c_ptr, ERRP]),
    ("keel_process_set_cwd", c_int, [c_ptr, c_str, ERRP]),
    ("keel_process_set_user", c_int, [c_ptr, c_uint, c_uint, ERRP]),
    ("keel_process_set_stdio", c_int, [c_ptr, c_int, c_int, c_int, ERRP]),
    ("keel_process_set_tty", c_int, [c_ptr, c_int, ERRP]),
    # spawn.h (the child of an exec)
    ("keel_child_pid", c_int, [c_ptr]),
    ("keel_child_pidfd", c_int, [c_ptr]),
    ("keel_child_tty_fd", c_int, [c_ptr]),
    ("keel_child_wait", c_int, [c_ptr, c_int, P(c_int), P(c_int), ERRP]),
    ("keel_child_kill", c_int, [c_ptr, c_int, ERRP]),
    ("keel_child_free", None, [c_ptr]),
    # mount.h
    ("keel_rootfs_set_directory", c_int, [c_ptr, c_str, ERRP]),
    ("keel_rootfs_add_defaults", c_int, [c_ptr, ERRP]),
    ("keel_rootfs_set_readonly", None, [c_ptr, c_int]),
    # cgroup.h
    ("keel_cgroup_mount_path", c_int, [P(c_ptr), ERRP]),
    ("keel_cgroup_default_parent", c_int, [P(c_ptr), ERRP]),
    ("keel_cgroup_create", c_int, [P(c_ptr), c_str, c_str, ERRP]),
    ("keel_cgroup_open", c_int, [P(c_ptr), c_str, c_str, ERRP]),
    ("keel_cgroup_free", None, [c_ptr]),
    ("keel_cgroup_remove", c_int, [c_ptr, c_uint, ERRP]),
    ("keel_cgroup_path", c_str, [c_ptr]),
    ("keel_cgroup_add_pid", c_int, [c_ptr, c_int, ERRP]),
    ("keel_cgroup_enable_controller", c_int, [c_ptr, c_str, ERRP]),
    ("keel_cgroup_set_memory_max", c_int, [c_ptr, c_u64, ERRP]),
    ("keel_cgroup_get_memory_max", c_int, [c_ptr, P(c_u64), ERRP]),
    ("keel_cgroup_set_memory_high", c_int, [c_ptr, c_u64, ERRP]),
    ("keel_cgroup_get_memory_high", c_int, [c_ptr, P(c_u64), ERRP]),
    ("keel_cgroup_set_cpu_max", c_int, [c_ptr, c_u64, c_u64, ERRP]),
    ("keel_cgroup_get_cpu_max", c_int, [c_ptr, P(c_u64), P(c_u64), ERRP]),
    ("keel_cgroup_set_cpu_weight", c_int, [c_ptr, c_u64, ERRP]),
    ("keel_cgroup_get_cpu_weight", c_int, [c_ptr, P(c_u64), ERRP]),
    ("keel_cgroup_set_pids_max", c_int, [c_ptr, c_u64, ERRP]),
    ("keel_cgroup_get_pids_max", c_int, [c_ptr, P(c_u64), ERRP]),
    ("keel_cgroup_set_raw", c_int, [c_ptr, c_str, c_str, ERRP]),
    ("keel_cgroup_get_raw", c_int, [c_ptr, c_str, P(c_ptr), ERRP]),
    ("keel_cgroup_get_memory_current", c_int, [c_ptr, P(c_u64), ERRP]),
    ("keel_cgroup_get_memory_peak", c_int, [c_ptr, P(c_u64), ERRP]),
    ("keel_cgroup_get_memory_stat", c_int, [c_ptr, c_str, P(c_u64), ERRP]),
    ("keel_cgroup_get_cpu_stat", c_int, [c_ptr, c_int, P(c_u64), ERRP]),
    ("keel_cgroup_get_pids_current", c_int, [c_ptr, P(c_u64), ERRP]),
    ("keel_cgroup_freeze", c_int, [c_ptr, c_int, ERRP]),
    ("keel_cgroup_thaw", c_int, [c_ptr, c_int, ERRP]),
    ("keel_cgroup_kill", c_int, [c_ptr, ERRP]),
    ("keel_cgroup_is_populated", c_int, [c_ptr, P(c_int), ERRP]),
    ("keel_cgroup_is_frozen", c_int, [c_ptr, P(c_int), ERRP]),
    # container.h
    ("keel_container_new", c_int, [P(c_ptr), c_str, c_str, ERRP]),
    ("keel_container_load", c_int, [P(c_ptr), c_str, c_str, ERRP]),
    ("keel_container_free", None, [c_ptr]),
    ("keel_container_id", c_str, [c_ptr]),
    ("keel_container_state_root", c_str, [c_ptr]),
    ("keel_container_rootfs", c_ptr, [c_ptr]),
    ("keel_container_process", c_ptr, [c_ptr]),
    ("keel_container_cgroup", c_ptr, [c_ptr]),
    ("keel_container_set_namespaces", c_int, [c_ptr, c_uint, ERRP]),
    ("keel_container_set_hostname", c_int, [c_ptr, c_str, ERRP]),
    ("keel_container_set_cgroup_parent", c_int, [c_ptr, c_str, ERRP]),
    ("keel_container_set_memory_max", c_int, [c_ptr, c_u64, ERRP]),
    ("keel_container_set_pids_max", c_int, [c_ptr, c_u64, ERRP]),
    ("keel_container_set_cpu_max", c_int, [c_ptr, c_u64, c_u64, ERRP]),
    ("keel_container_set_network", c_int, [c_ptr, c_str, c_str, c_str, ERRP]),
    ("keel_container_set_network_host", c_int, [c_ptr, c_str, ERRP]),
    ("keel_container_set_upper_dir", c_int, [c_ptr, c_str, ERRP]),
    ("keel_container_set_keep_upper", None, [c_ptr, c_int]),
    ("keel_container_set_stop_signal", c_int, [c_ptr, c_int, ERRP]),
    ("keel_container_stop_signal", c_int, [c_ptr]),
    ("keel_container_add_layer", c_int, [c_ptr, c_str, ERRP]),
    ("keel_container_create", c_int, [c_ptr, ERRP]),
    ("keel_container_start", c_int, [c_ptr, ERRP]),
    ("keel_container_run", c_int, [c_ptr, ERRP]),
    ("keel_container_wait", c_int, [c_ptr, c_uint, P(c_int), P(c_int), ERRP]),
    ("keel_container_kill", c_int, [c_ptr, c_int, c_uint, ERRP]),
    ("keel_container_pause", c_int, [c_ptr, ERRP]),
    ("keel_container_resume", c_int, [c_ptr, ERRP]),
    ("keel_container_exec", c_int, [c_ptr, c_ptr, P(c_ptr), ERRP]),
    ("keel_container_state", c_int, [c_ptr, P(c_int), ERRP]),
    ("keel_container_state_name", c_str, [c_int]),
    ("keel_container_pid", c_int, [c_ptr]),
    ("keel_container_created_at", c_i64, [c_ptr]),
    ("keel_container_started_at", c_i64, [c_ptr]),
    ("keel_container_exit_code", c_int, [c_ptr, P(c_int), P(c_int), ERRP]),
    ("keel_container_layers", c_int, [c_ptr, P(c_ptr), ERRP]),
    ("keel_container_upper_usage", c_int, [c_ptr, P(c_u64), ERRP]),
    ("keel_container_delete", c_int, [c_ptr, c_uint, ERRP]),
    ("keel_container_list", c_int, [c_str, P(c_ptr), P(ctypes.c_size_t), ERRP]),
    ("keel_container_strv_free", None, [c_ptr]),
    # image.h (1.1)
    ("keel_image_store_open", c_int, [P(c_ptr), c_str, ERRP]),
    ("keel_image_store_free", None, [c_ptr]),
    ("keel_image_store_root", c_str, [c_ptr]),
    ("keel_image_import", c_int, [c_ptr, c_str, c_int, c_str, c_str, P(c_ptr), ERRP]),
    ("keel_image_open", c_int, [P(c_ptr), c_ptr, c_str, ERRP]),
    ("keel_image_free", None, [c_ptr]),
    ("keel_image_digest", c_str, [c_ptr]),
    ("keel_image_id", c_str, [c_ptr]),
    ("keel_image_config", c_str, [c_ptr]),
    ("keel_image_platform", c_str, [c_ptr]),
    ("keel_image_created", c_i64, [c_ptr]),
    ("keel_image_layer_count", ctypes.c_size_t, [c_ptr]),
    ("keel_image_layer_dir", c_str, [c_ptr, ctypes.c_size_t]),
    ("keel_image_sizes", c_int, [c_ptr, c_ptr, P(c_u64), P(c_u64), ERRP]),
    ("keel_image_names", c_int, [c_ptr, c_ptr, P(c_ptr), ERRP]),
    ("keel_image_list", c_int, [c_ptr, P(c_ptr), ERRP]),
    ("keel_image_strv_free", None, [c_ptr]),
    ("keel_image_tag", c_int, [c_ptr, c_str, c_str, ERRP]),
    ("keel_image_untag", c_int, [c_ptr, c_str, ERRP]),
    ("keel_image_remove", c_int, [c_ptr, c_str, c_uint, ERRP]),
    ("keel_image_prune", c_int, [c_ptr, P(c_u64), ERRP]),
    ("keel_image_apply", c_int, [c_ptr, c_ptr, c_ptr, P(c_str), ERRP]),
    ("keel_image_commit", c_int, [c_ptr, c_ptr, c_str, P(c_str), c_str, P(c_ptr), ERRP]),
    ("keel_image_save", c_int, [c_ptr, c_str, c_str, c_int, ERRP]),
    # net.h
    ("keel_netns_open_current", c_int, [P(c_ptr), ERRP]),
    ("keel_netns_open_fd", c_int, [P(c_ptr), c_int, ERRP]),
    ("keel_netns_open_pid", c_int, [P(c_ptr), c_int, ERRP]),
    ("keel_netns_free", None, [c_ptr]),
    ("keel_net_bridge_create", c_int, [c_ptr, c_str, ERRP]),
    ("keel_net_bridge_delete", c_int, [c_ptr, c_str, ERRP]),
    ("keel_net_link_exists", c_int, [c_ptr, c_str, ERRP]),
    ("keel_net_link_delete", c_int, [c_ptr, c_str, ERRP]),
    ("keel_net_link_set_up", c_int, [c_ptr, c_str, ERRP]),
    ("keel_net_link_set_down", c_int, [c_ptr, c_str, ERRP]),
    ("keel_net_link_set_mtu", c_int, [c_ptr, c_str, c_uint, ERRP]),
    ("keel_net_link_set_master", c_int, [c_ptr, c_str, c_str, ERRP]),
    ("keel_net_veth_create", c_int, [c_ptr, c_str, c_str, P(c_ptr), P(c_ptr), ERRP]),
    ("keel_net_link_move", c_int, [c_ptr, c_str, c_ptr, c_str, ERRP]),
    ("keel_net_addr_add", c_int, [c_ptr, c_str, c_str, ERRP]),
    ("keel_net_addr_del", c_int, [c_ptr, c_str, c_str, ERRP]),
    ("keel_net_addr_list", c_int, [c_ptr, c_str, P(c_ptr), ERRP]),
    ("keel_net_strv_free", None, [c_ptr]),
    ("keel_net_route_add", c_int, [c_ptr, c_str, c_str, c_str, ERRP]),
    ("keel_net_route_del", c_int, [c_ptr, c_str, c_str, c_str, ERRP]),
    ("keel_net_link_state", c_int, [c_ptr, c_str, P(c_int), P(c_int), P(c_uint), P(c_ptr), ERRP]),
    ("keel_net_link_stats", c_int, [c_ptr, c_str, P(c_u64), P(c_u64), P(c_u64), P(c_u64), ERRP]),
]

for _name, _res, _args in _PROTOTYPES:
    setattr(F, _name, _declare(_name, _res, _args))


def enc(s):
    """A str (or path-like) as bytes for a ``const char *``; None stays NULL."""
    if s is None:
        return None
    return os.fsencode(s)


def dec(b):
    """A ``const char *`` result as str (None for NULL)."""
    return None if b is None else os.fsdecode(b)


def take_string(p):
    """Copy a malloc'd ``char *`` out parameter into a str and free() it."""
    if not p.value:
        return None
    try:
        return os.fsdecode(ctypes.string_at(p.value))
    finally:
        libc.free(p.value)


def take_strv(p, free):
    """Copy a NULL-terminated ``char **`` into a list of str and free it with ``free``."""
    if not p.value:
        return []
    try:
        arr = ctypes.cast(p.value, P(c_str))
        out = []
        i = 0
        while arr[i] is not None:
            out.append(os.fsdecode(arr[i]))
            i += 1
        return out
    finally:
        free(p.value)


def argv(args):
    """A sequence of str as a NULL-terminated ``const char *const[]``."""
    args = [enc(a) for a in args]
    arr = (c_str * (len(args) + 1))(*args, None)
    return arr


def call(fn, *args):
    """Call a fallible libkeel function and raise KeelError when it fails.

    ``fn`` takes ``keel_error **err`` last; it is added here. Returns the
    function's non-negative result.
    """
    err = c_ptr()
    ret = fn(*args, ctypes.byref(err))
    if ret < 0:
        raise take_error(ret, err)
    return ret


def take_error(ret, err):
    """Turn a failed call's return value and keel_error into a KeelError (and free the error)."""
    from .errors import KeelError, ErrorCode
    if not err.value:
        return KeelError(-ret, os.strerror(-ret))
    try:
        code = F.keel_error_code(err)
        eno = F.keel_error_errno(err) or -ret
        msg = dec(F.keel_error_message(err))
    finally:
        F.keel_error_free(err)
    try:
        code = ErrorCode(code)
    except ValueError:
        pass
    return KeelError(eno, msg, code)
