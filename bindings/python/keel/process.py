"""What to run (keel/process.h) and a running process (keel_child, keel/spawn.h).

Standard streams follow :mod:`subprocess`: ``None`` inherits the caller's,
:data:`PIPE` makes a pipe whose other end appears as the object's
``stdin``/``stdout``/``stderr`` file, :data:`DEVNULL` is /dev/null, and an
int or an object with ``fileno()`` is used as it is.
"""

import ctypes
import os
import time
from typing import Mapping, NamedTuple, Optional, Sequence

from ._lib import F, WAIT_NOHANG, Handle, argv, call, enc
from .enums import Signal

#: Make a pipe for this stream (like subprocess.PIPE).
PIPE = -2
#: Connect this stream to /dev/null (like subprocess.DEVNULL).
DEVNULL = -3


class ExitStatus(NamedTuple):
    """How a process ended: ``code`` 0-255, or -1 when ``signal`` ended it."""
    code: int
    signal: int

    @property
    def ok(self) -> bool:
        """True when it exited with code 0."""
        return self.code == 0


class _Stdio:
    """The fds for one spawn: made from the user's stdin/stdout/stderr arguments.

    After the spawn the child has its own copies: :meth:`after_spawn` closes
    the ends that belong to the child and keeps the parent's ends as files.
    """

    def __init__(self, stdin, stdout, stderr):
        self.given = any(s is not None for s in (stdin, stdout, stderr))
        self.fds = [0, 1, 2]
        self.child_ends = []
        self.parent_files = [None, None, None]
        try:
            for i, spec in enumerate((stdin, stdout, stderr)):
                self._one(i, spec)
        except BaseException:
            self.close_all()
            raise

    def _one(self, i, spec):
        if spec is None:
            return                        # inherit the caller's fd i
        if spec == DEVNULL:
            self.fds[i] = -1              # the library opens /dev/null
        elif spec == PIPE:
            r, w = os.pipe2(os.O_CLOEXEC)
            child, parent = (r, w) if i == 0 else (w, r)
            self.fds[i] = child
            self.child_ends.append(child)
            self.parent_files[i] = os.fdopen(parent, "wb" if i == 0 else "rb", buffering=0)
        elif isinstance(spec, int):
            if spec < 0:
                raise ValueError("stdio: bad file descriptor %d" % spec)
            self.fds[i] = spec
        else:
            self.fds[i] = spec.fileno()

    def apply(self, proc_handle):
        """keel_process_set_stdio() on a keel_process, when any stream was given."""
        if self.given:
            call(F.keel_process_set_stdio, proc_handle, *self.fds)

    def after_spawn(self):
        """Close the child's ends: the child holds its own copies now."""
        for fd in self.child_ends:
            os.close(fd)
        self.child_ends = []

    def close_all(self):
        self.after_spawn()
        for f in self.parent_files:
            if f is not None:
                f.close()


def configure(handle, args=None, env=None, clear_env=False, cwd=None, user=None, tty=False):
    """Fill a keel_process handle from keyword arguments (one documented call each)."""
    if args is not None:
        if isinstance(args, (str, bytes)):
            raise TypeError("args must be a sequence of strings, not a string")
        call(F.keel_process_set_args, handle, argv(args))
    if clear_env:
        call(F.keel_process_clearenv, handle)
    for name, value in (env or {}).items():
        if value is None:
            call(F.keel_process_unsetenv, handle, enc(name))
        else:
            call(F.keel_process_setenv, handle, enc(name), enc(value))
    if cwd is not None:
        call(F.keel_process_set_cwd, handle, enc(cwd))
    if user is not None:
        uid, gid = user if isinstance(user, tuple) else (user, user)
        call(F.keel_process_set_user, handle, uid, gid)
    if tty:
        call(F.keel_process_set_tty, handle, 1)


class ProcessSpec(Handle):
    """A keel_process description (what to run), used by :meth:`Container.exec`.

    Keyword arguments as for :meth:`Container.exec`. Free it with
    :meth:`close` or a ``with`` block.
    """

    _free, _what = "keel_process_free", "ProcessSpec"

    def __init__(self, args: Sequence[str], *, env: Optional[Mapping[str, Optional[str]]] = None,
                 clear_env: bool = False, cwd: Optional[str] = None, user=None, tty: bool = False):
        h = ctypes.c_void_p()
        call(F.keel_process_new, ctypes.byref(h))
        self._h = h
        try:
            configure(h, args, env, clear_env, cwd, user, tty)
        except BaseException:
            self.close()
            raise


class Process:
    """A running process started by libkeel (a keel_child), such as an exec.

    ``stdin``/``stdout``/``stderr`` are files when :data:`PIPE` was asked
    for. The process is the caller's child: :meth:`wait` reaps it. A ``with``
    block, or :meth:`close`, kills (SIGKILL) and reaps it if it still runs,
    then frees the handle, so no process or zombie is left behind.
    """

    def __init__(self, handle, stdio: _Stdio):
        self._h = handle
        self._stdio = stdio
        self.stdin, self.stdout, self.stderr = stdio.parent_files
        self._status = None

    @property
    def pid(self) -> int:
        """The process id as seen by the caller (keel_child_pid)."""
        return F.keel_child_pid(self._handle())

    @property
    def pidfd(self) -> int:
        """A pidfd owned by this object, readable when the process ends (keel_child_pidfd)."""
        return F.keel_child_pidfd(self._handle())

    @property
    def tty_fd(self) -> int:
        """The pty master when ``tty=True``, else -1; owned by this object (keel_child_tty_fd)."""
        return F.keel_child_tty_fd(self._handle())

    def poll(self) -> Optional[ExitStatus]:
        """The exit status if the process has ended, else None, without blocking."""
        return self._wait(WAIT_NOHANG)

    def wait(self, timeout: Optional[float] = None) -> ExitStatus:
        """Wait for the process to end and reap it (keel_child_wait).

        With ``timeout`` (seconds) raise TimeoutError if it still runs then.
        """
        if timeout is None:
            return self._wait(0)
        return _poll_until(self.poll, timeout, "process %d" % self.pid)

    def _wait(self, flags):
        if self._status is not None:
            return self._status
        code, sig = ctypes.c_int(), ctypes.c_int()
        done = call(F.keel_child_wait, self._handle(), flags, ctypes.byref(code), ctypes.byref(sig))
        if not done:
            return None
        self._status = ExitStatus(code.value, sig.value)
        return self._status

    def kill(self, sig: Signal = Signal.SIGKILL) -> None:
        """Send a signal through the pidfd (keel_child_kill)."""
        call(F.keel_child_kill, self._handle(), int(sig))

    def terminate(self) -> None:
        """Send SIGTERM."""
        self.kill(Signal.SIGTERM)

    def _handle(self):
        if not self._h:
            raise ValueError("keel.Process: used after close()")
        return self._h

    def close(self) -> None:
        """Kill and reap the process if it still runs, close pipes, free the handle."""
        if not getattr(self, "_h", None):
            return
        try:
            if self._status is None and self.poll() is None:
                self.kill(Signal.SIGKILL)
                self._wait(0)
        finally:
            self._stdio.close_all()
            F.keel_child_free(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def _poll_until(poll, timeout, what):
    """Call ``poll`` until it returns something, with a short backoff, or time out."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        status = poll()
        if status is not None:
            return status
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("%s: still running after %gs" % (what, timeout))
        time.sleep(min(delay, left))
        delay = min(delay * 2, 0.05)
