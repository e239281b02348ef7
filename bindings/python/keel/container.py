"""Containers (keel/container.h): configure, create, start, wait, exec, delete.

>>> with keel.Container("web", layers=[rootfs], args=["echo", "hi"],
...                     stdout=keel.PIPE) as c:
...     c.run()
...     print(c.stdout.read().decode(), c.wait())

The ``with`` block deletes a container this handle created (killing it if
it still runs), then frees the handle; a container picked up with
:meth:`Container.load` is only closed, unless :meth:`delete` is called.
"""

import ctypes
import errno
import os
from typing import Mapping, Optional, Sequence

from ._lib import F, WAIT_NOHANG, call, dec, enc, take_strv
from .cgroup import Cgroup
from .enums import ContainerState, Namespace, Signal
from .errors import ErrorCode, KeelError
from .process import ExitStatus, Process, ProcessSpec, _poll_until, _Stdio, configure

_KILL_ALL = 1          # KEEL_KILL_ALL
_DELETE_FORCE = 1      # KEEL_DELETE_FORCE
_DELETE_KEEP_UPPER = 2  # KEEL_DELETE_KEEP_UPPER


class Container:
    """A container: an id, a root filesystem, namespaces, a cgroup, an init process.

    Every keyword argument maps to one libkeel configuration call, made
    here, before :meth:`create`:

    - ``state_root``: where container state lives (default /run/keel);
    - ``rootfs``: a directory used as the root as it is
      (keel_rootfs_set_directory), or ``layers``: image layers, lowest first,
      under a writable layer of the container's own (keel_container_add_layer);
    - ``default_mounts``: /proc, /sys, /dev ... (keel_rootfs_add_defaults; default True);
    - ``readonly``: a read-only root (keel_rootfs_set_readonly);
    - ``args``, ``env`` (None values unset a variable), ``clear_env``,
      ``cwd``, ``user`` (uid or (uid, gid)), ``tty``: the init process (keel_process_*);
    - ``stdin``, ``stdout``, ``stderr``: None (inherit), :data:`keel.PIPE`,
      :data:`keel.DEVNULL`, an fd or a file;
    - ``hostname``, ``namespaces`` (:class:`Namespace` flags), ``cgroup_parent``;
    - ``memory_max``, ``pids_max``, ``cpu_max`` ((quota_us, period_us)):
      limits applied at create;
    - ``network``: (bridge, "10.88.0.2/16", gateway or None), ``network_host``:
      the netns path the bridge lives in;
    - ``upper_dir``, ``keep_upper``: where the writable layer goes, and
      whether delete keeps it;
    - ``stop_signal``: the signal that stops it (an int or :class:`signal.Signals`,
      1 to 64; keel_container_set_stop_signal), recorded at create so that
      any process that loads it reads the same :attr:`stop_signal`.
    """

    def __init__(self, id: str, *, state_root: Optional[str] = None,
                 rootfs: Optional[str] = None, layers: Sequence[str] = (),
                 default_mounts: bool = True, readonly: bool = False,
                 args: Optional[Sequence[str]] = None,
                 env: Optional[Mapping[str, Optional[str]]] = None, clear_env: bool = False,
                 cwd: Optional[str] = None, user=None, tty: bool = False,
                 stdin=None, stdout=None, stderr=None,
                 hostname: Optional[str] = None, namespaces: Optional[Namespace] = None,
                 cgroup_parent: Optional[str] = None,
                 memory_max: Optional[int] = None, pids_max: Optional[int] = None,
                 cpu_max: Optional[tuple] = None,
                 network: Optional[tuple] = None, network_host: Optional[str] = None,
                 upper_dir: Optional[str] = None, keep_upper: bool = False,
                 stop_signal: Optional[int] = None, _before=None):
        h = ctypes.c_void_p()
        call(F.keel_container_new, ctypes.byref(h), enc(id), enc(state_root))
        self._init(h, owned=True)
        self._stdio_spec = (stdin, stdout, stderr)
        try:
            if _before is not None:  # from_image: the image first, so the arguments win
                _before(self)
            self._configure(rootfs, layers, default_mounts, readonly, args, env, clear_env, cwd,
                            user, tty, hostname, namespaces, cgroup_parent, memory_max, pids_max,
                            cpu_max, network, network_host, upper_dir, keep_upper, stop_signal)
        except BaseException:
            self.close()
            raise

    def _init(self, h, owned):
        self._h = h
        self._owned = owned      # made by this handle: a `with` block deletes it
        self._created = False
        self._deleted = False
        self._cgroup = None
        self._stdio_spec = (None, None, None)
        self.stdin = self.stdout = self.stderr = None
        self._stdio = None

    def _configure(self, rootfs, layers, default_mounts, readonly, args, env, clear_env, cwd,
                   user, tty, hostname, namespaces, cgroup_parent, memory_max, pids_max,
                   cpu_max, network, network_host, upper_dir, keep_upper, stop_signal):
        h = self._h
        r = F.keel_container_rootfs(h)
        if rootfs is not None:
            call(F.keel_rootfs_set_directory, r, enc(rootfs))
        for layer in layers:
            call(F.keel_container_add_layer, h, enc(layer))
        if default_mounts:
            call(F.keel_rootfs_add_defaults, r)
        if readonly:
            F.keel_rootfs_set_readonly(r, 1)
        configure(F.keel_container_process(h), args, env, clear_env, cwd, user, tty)
        if hostname is not None:
            call(F.keel_container_set_hostname, h, enc(hostname))
        if namespaces is not None:
            call(F.keel_container_set_namespaces, h, int(namespaces))
        if cgroup_parent is not None:
            call(F.keel_container_set_cgroup_parent, h, enc(cgroup_parent))
        if memory_max is not None:
            call(F.keel_container_set_memory_max, h, memory_max)
        if pids_max is not None:
            call(F.keel_container_set_pids_max, h, pids_max)
        if cpu_max is not None:
            call(F.keel_container_set_cpu_max, h, *cpu_max)
        if network_host is not None:
            call(F.keel_container_set_network_host, h, enc(network_host))
        if network is not None:
            bridge, addr, gateway = (tuple(network) + (None,))[:3]
            call(F.keel_container_set_network, h, enc(bridge), enc(addr), enc(gateway))
        if upper_dir is not None:
            call(F.keel_container_set_upper_dir, h, enc(upper_dir))
        if keep_upper:
            F.keel_container_set_keep_upper(h, 1)
        if stop_signal is not None:
            # int() of a bool or float would hide a caller's mistake: only an int.
            if isinstance(stop_signal, bool) or not isinstance(stop_signal, int):
                raise TypeError("keel.Container: stop_signal must be an int or signal.Signals, not %s"
                                % type(stop_signal).__name__)
            sig = int(stop_signal)
            if not -2**31 <= sig < 2**31:  # ctypes would drop the high bits: 2**32 + 15 is not 15
                raise KeelError(errno.EINVAL, "keel.Container: stop_signal: bad signal %d "
                                "(a signal number from 1 to 64)" % sig, ErrorCode.INVALID)
            call(F.keel_container_set_stop_signal, h, sig)

    @classmethod
    def from_image(cls, store, image, id: str, *, cmd: Optional[Sequence[str]] = None,
                   **kw) -> "Container":
        """A new container of an image of ``store`` (keel_image_apply), like ``docker run IMAGE``.

        ``image`` is an :class:`keel.Image` or a ref (``name[:tag]`` or
        digest). Its layers become the container's, its Entrypoint + Cmd,
        Env, WorkingDir and User the init's, its StopSignal the container's
        :attr:`stop_signal`; ``cmd`` replaces the Cmd (the
        Entrypoint stays). Every other keyword argument is the
        constructor's and wins over the image: ``args`` replaces the whole
        command, ``env`` adds to (or with None removes from) the image's
        Env, ``clear_env`` drops it, ``cwd`` and ``user`` replace its own.
        ``rootfs`` and ``layers`` do not apply: the image is the root.
        The store refuses to remove the image while the container exists.
        """
        for k in ("rootfs", "layers"):
            if k in kw:
                raise TypeError("keel.Container.from_image: %s= does not apply, "
                                "the image is the root filesystem" % k)
        return cls(id, _before=lambda c: store.apply(image, c, cmd), **kw)

    @classmethod
    def load(cls, id: str, state_root: Optional[str] = None) -> "Container":
        """Pick up an existing container by id, from any process (keel_container_load)."""
        h = ctypes.c_void_p()
        call(F.keel_container_load, ctypes.byref(h), enc(id), enc(state_root))
        self = cls.__new__(cls)
        self._init(h, owned=False)
        self._created = True
        return self

    @staticmethod
    def list(state_root: Optional[str] = None) -> list:
        """The ids of the containers in a state root, sorted (keel_container_list)."""
        p = ctypes.c_void_p()
        call(F.keel_container_list, enc(state_root), ctypes.byref(p), None)
        return take_strv(p, F.keel_container_strv_free)

    # -- identity
    @property
    def id(self) -> str:
        """The container's id."""
        return dec(F.keel_container_id(self._handle()))

    @property
    def state_root(self) -> str:
        """The state root it lives in."""
        return dec(F.keel_container_state_root(self._handle()))

    @property
    def pid(self) -> int:
        """The init's pid on the host, 0 before create (keel_container_pid)."""
        return F.keel_container_pid(self._handle())

    @property
    def created_at(self) -> int:
        """When it was created, seconds since the epoch (0 before create)."""
        return F.keel_container_created_at(self._handle())

    @property
    def started_at(self) -> int:
        """When it was started, seconds since the epoch (0 when not started)."""
        return F.keel_container_started_at(self._handle())

    @property
    def stop_signal(self):
        """The signal that stops it (keel_container_stop_signal): SIGTERM unless set.

        A :class:`signal.Signals` when Python names the number, else an int
        (a real-time signal such as 40). A loaded handle has what its
        create recorded; an image's StopSignal is applied by from_image.
        Send it with ``c.kill(c.stop_signal)``.
        """
        sig = F.keel_container_stop_signal(self._handle())
        try:
            return Signal(sig)
        except ValueError:
            return sig

    @property
    def state(self) -> ContainerState:
        """The state, checked against the kernel (keel_container_state)."""
        s = ctypes.c_int()
        call(F.keel_container_state, self._handle(), ctypes.byref(s))
        return ContainerState(s.value)

    @property
    def layers(self) -> list:
        """The image layers, lowest first (keel_container_layers)."""
        p = ctypes.c_void_p()
        call(F.keel_container_layers, self._handle(), ctypes.byref(p))
        return take_strv(p, F.keel_container_strv_free)

    @property
    def upper_usage(self) -> int:
        """Bytes used by the writable layer (keel_container_upper_usage)."""
        v = ctypes.c_uint64()
        call(F.keel_container_upper_usage, self._handle(), ctypes.byref(v))
        return v.value

    @property
    def cgroup(self) -> Optional[Cgroup]:
        """The container's cgroup (owned by the container), or None before create."""
        h = F.keel_container_cgroup(self._handle())
        if not h:
            return None
        if self._cgroup is None or self._cgroup._h != h:
            self._cgroup = Cgroup(ctypes.c_void_p(h), owner=self)
        return self._cgroup

    # -- lifecycle
    def create(self) -> None:
        """Set the container up; its init waits before exec (keel_container_create)."""
        self._spawn(F.keel_container_create)

    def start(self) -> None:
        """Let a created container's init exec its command (keel_container_start)."""
        call(F.keel_container_start, self._handle())

    def run(self) -> None:
        """create() then start(); nothing is left when it fails (keel_container_run)."""
        self._spawn(F.keel_container_run)

    def _spawn(self, fn):
        stdio = _Stdio(*self._stdio_spec)
        try:
            stdio.apply(F.keel_container_process(self._handle()))
            call(fn, self._handle())
        except BaseException:
            stdio.close_all()
            raise
        stdio.after_spawn()
        self._created = True
        self._stdio = stdio
        self.stdin, self.stdout, self.stderr = stdio.parent_files

    def poll(self) -> Optional[ExitStatus]:
        """The init's exit status if it has ended, else None, without blocking."""
        return self._wait(WAIT_NOHANG)

    def wait(self, timeout: Optional[float] = None) -> ExitStatus:
        """Wait for the init to end (keel_container_wait).

        ``code`` is -1 when a signal ended it or the status is not known in
        this process. With ``timeout`` (seconds) raise TimeoutError then.
        """
        if timeout is None:
            return self._wait(0)
        return _poll_until(self.poll, timeout, "container %s" % self.id)

    def _wait(self, flags):
        code, sig = ctypes.c_int(), ctypes.c_int()
        done = call(F.keel_container_wait, self._handle(), flags, ctypes.byref(code),
                    ctypes.byref(sig))
        return ExitStatus(code.value, sig.value) if done else None

    def exit_status(self) -> Optional[ExitStatus]:
        """How the init ended, or None when not known (keel_container_exit_code)."""
        code, sig = ctypes.c_int(), ctypes.c_int()
        try:
            call(F.keel_container_exit_code, self._handle(), ctypes.byref(code), ctypes.byref(sig))
        except KeelError as e:
            if e.errno == errno.ENODATA:
                return None
            raise
        return ExitStatus(code.value, sig.value)

    def kill(self, sig: Signal = Signal.SIGTERM, all: bool = False) -> None:
        """Signal the init, or with ``all`` every process of the container."""
        call(F.keel_container_kill, self._handle(), int(sig), _KILL_ALL if all else 0)

    def pause(self) -> None:
        """Freeze every process of the container (keel_container_pause)."""
        call(F.keel_container_pause, self._handle())

    def resume(self) -> None:
        """Thaw a paused container (keel_container_resume)."""
        call(F.keel_container_resume, self._handle())

    def exec(self, args: Sequence[str], *, env: Optional[Mapping[str, Optional[str]]] = None,
             clear_env: bool = False, cwd: Optional[str] = None, user=None, tty: bool = False,
             stdin=None, stdout=None, stderr=None) -> Process:
        """Run a process inside the running container, like ``docker exec``.

        Returns a :class:`Process`: wait for it, or use it in a ``with`` block.
        """
        with ProcessSpec(args, env=env, clear_env=clear_env, cwd=cwd, user=user, tty=tty) as spec:
            stdio = _Stdio(stdin, stdout, stderr)
            child = ctypes.c_void_p()
            try:
                stdio.apply(spec._h)
                call(F.keel_container_exec, self._handle(), spec._h, ctypes.byref(child))
            except BaseException:
                stdio.close_all()
                raise
            stdio.after_spawn()
            return Process(child, stdio)

    def delete(self, force: bool = False, keep_upper: bool = False) -> None:
        """Remove the container: processes (with ``force``), writable layer, cgroup, state."""
        flags = (_DELETE_FORCE if force else 0) | (_DELETE_KEEP_UPPER if keep_upper else 0)
        call(F.keel_container_delete, self._handle(), flags)
        self._deleted = True
        self._cgroup = None

    # -- plumbing
    def _handle(self):
        if not self._h:
            raise ValueError("keel.Container: used after close()")
        return self._h

    def close(self) -> None:
        """Free the handle (memory and fds only; the container stays); idempotent."""
        if getattr(self, "_h", None):
            if self._stdio is not None:
                self._stdio.close_all()
            F.keel_container_free(self._h)
            self._h = None
            self._cgroup = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            if self._h and self._owned and self._created and not self._deleted:
                self.delete(force=True)
        finally:
            self.close()

    def __del__(self):
        self.close()

    def __repr__(self):
        if not getattr(self, "_h", None):
            return "<keel.Container closed>"
        return "<keel.Container %s pid=%d>" % (self.id, self.pid)
