"""Version of the loaded library and runtime feature discovery (keel/features.h)."""

import ctypes
from typing import Optional

from . import _lib
from ._lib import F, Handle, call, dec
from .enums import Feature


def version() -> str:
    """The loaded libkeel's version, ``"MAJOR.MINOR.PATCH"`` (keel_version)."""
    return dec(_lib.lib.keel_version())


def version_at_least(major: int, minor: int = 0, patch: int = 0) -> bool:
    """Whether the loaded libkeel is at least that version (keel_version_at_least)."""
    return bool(_lib.lib.keel_version_at_least(major, minor, patch))


def library_path() -> str:
    """The file the binding loaded libkeel from."""
    return _lib.path


class Features(Handle):
    """What this kernel and this build support, probed once (keel_features_probe).

    ``with Features() as f: f.has(Feature.OVERLAYFS)``; the probe result is
    freed by :meth:`close` (or the ``with`` block, or garbage collection).
    """

    _free, _what = "keel_features_free", "Features"

    def __init__(self):
        h = ctypes.c_void_p()
        call(F.keel_features_probe, ctypes.byref(h))
        self._h = h

    def has(self, feature: Feature) -> bool:
        """Whether ``feature`` is available (keel_features_has)."""
        return bool(F.keel_features_has(self._handle(), int(feature)))

    @property
    def cgroup2_path(self) -> Optional[str]:
        """Where cgroup2 is mounted, or None (keel_features_cgroup2_path)."""
        return dec(F.keel_features_cgroup2_path(self._handle()))

    @property
    def cgroup2_controllers(self) -> list:
        """The controllers the cgroup2 root offers (keel_features_cgroup2_controllers)."""
        return dec(F.keel_features_cgroup2_controllers(self._handle())).split()

    def available(self) -> list:
        """Every :class:`Feature` that is available."""
        return [f for f in Feature if self.has(f)]

    @staticmethod
    def name(feature: Feature) -> Optional[str]:
        """The library's name for a feature ("clone3" ...; keel_feature_name)."""
        return dec(F.keel_feature_name(int(feature)))
