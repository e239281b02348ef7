"""libkeel for Python: Linux containers through the stable C ABI of libkeel.so.1.

Built on ctypes only (no compiler, no third-party dependency). Every method
maps to one documented libkeel call; a failure raises :class:`KeelError`
(an OSError) carrying the library's errno and message.

>>> import keel
>>> with keel.Container("hello", layers=["/srv/images/busybox"],
...                     args=["echo", "hello"], stdout=keel.PIPE) as c:
...     c.run()
...     print(c.stdout.read().decode(), end="")
...     print(c.wait())
hello
ExitStatus(code=0, signal=0)

See bindings/python/README.md; the library is found as described in keel._lib.
"""

from ._lib import REQUIRED_VERSION, has
from .cgroup import Cgroup, default_parent, mount_path
from .container import Container
from .enums import (DEFAULT_NAMESPACES, ContainerState, CpuStat, Feature, Namespace, Signal)
from .errors import ErrorCode, KeelError
from .features import Features, library_path, version, version_at_least
from .image import Image, ImageFormat, ImageSizes, ImageStore, ImageSummary
from .process import DEVNULL, PIPE, ExitStatus, Process
from . import net

__version__ = "1.0.0"

__all__ = [
    "Cgroup", "Container", "ContainerState", "CpuStat", "DEFAULT_NAMESPACES", "DEVNULL",
    "ErrorCode", "ExitStatus", "Feature", "Features", "Image", "ImageFormat", "ImageSizes",
    "ImageStore", "ImageSummary", "KeelError", "Namespace", "PIPE",
    "Process", "REQUIRED_VERSION", "Signal", "default_parent", "has", "library_path",
    "mount_path", "net", "version", "version_at_least",
]
