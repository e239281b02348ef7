"""Images (keel/image.h): a content-addressed store, import, run, commit, save.

>>> with keel.ImageStore("/var/lib/keel") as store:
...     digest = store.import_("busybox.tar", name="busybox")
...     with keel.Container.from_image(store, "busybox", "web",
...                                    stdout=keel.PIPE) as c:   # the image's Cmd
...         c.run()
...         print(c.stdout.read().decode(), c.wait())

An :class:`Image` is what the store held when it was opened: its digest,
config and layers do not change. Its :attr:`Image.names` and
:attr:`Image.sizes` are read from the store each time, since tags and
sharing change.
"""

import ctypes
import enum
import errno
import json
from typing import List, NamedTuple, Optional, Sequence, Union

from ._lib import F, Handle, argv, call, dec, enc, take_string, take_strv

_REMOVE_FORCE = 1  # KEEL_IMAGE_REMOVE_FORCE


class ImageFormat(enum.IntEnum):
    """What :meth:`ImageStore.import_` reads and :meth:`ImageStore.save` writes
    (``enum keel_image_format``)."""
    AUTO = 0            #: import: find out from the contents
    OCI_LAYOUT = 1      #: an OCI image layout directory
    OCI_ARCHIVE = 2     #: a tar of an OCI image layout
    DOCKER_ARCHIVE = 3  #: what ``docker save`` writes (manifest.json)
    ROOTFS_TAR = 4      #: a plain root filesystem tar: a one-layer image


_FORMAT_NAMES = {"auto": ImageFormat.AUTO, "oci": ImageFormat.OCI_LAYOUT,
                 "oci-layout": ImageFormat.OCI_LAYOUT, "oci-archive": ImageFormat.OCI_ARCHIVE,
                 "docker-archive": ImageFormat.DOCKER_ARCHIVE, "docker": ImageFormat.DOCKER_ARCHIVE,
                 "rootfs": ImageFormat.ROOTFS_TAR, "rootfs-tar": ImageFormat.ROOTFS_TAR}


def _format(fmt) -> int:
    """An ImageFormat, its int, or a name ("oci-archive", "docker-archive" ...)."""
    if isinstance(fmt, str):
        try:
            return int(_FORMAT_NAMES[fmt.lower()])
        except KeyError:
            raise ValueError("keel: unknown image format %r (one of %s)"
                             % (fmt, ", ".join(sorted(_FORMAT_NAMES)))) from None
    return int(ImageFormat(fmt))


def _cmd(cmd):
    """None, or a NULL-terminated argv for a ``const char *const *cmd``."""
    if cmd is None:
        return None
    if isinstance(cmd, (str, bytes)):
        raise TypeError("cmd must be a sequence of strings, not a string")
    return argv(cmd)


class ImageSizes(NamedTuple):
    """An image's sizes in bytes, as ``docker images`` and ``docker system df -v`` show them."""
    unique: int  #: bytes of the layers no other image has
    total: int   #: bytes of all its layers, shared or not (the virtual size)


class ImageSummary(NamedTuple):
    """One line of :meth:`ImageStore.list`: an image as the store holds it now."""
    digest: str      #: the manifest digest, "sha256:..."
    id: str          #: the config digest (what ``docker images`` shows)
    names: list      #: the names that point at it, sorted (empty when untagged)
    platform: str    #: "os/arch[/variant]"
    created: int     #: seconds since the epoch, 0 when the config does not say
    layers: int      #: how many layers
    size: int        #: all its layers' bytes (ImageSizes.total)
    unique_size: int  #: its own layers' bytes (ImageSizes.unique)


class Image(Handle):
    """An image of a store (``keel_image``), from :meth:`ImageStore.open`.

    Close it with :meth:`close` or a ``with`` block (garbage collection
    does too); containers made from it keep running after that.
    """

    _free, _what = "keel_image_free", "Image"

    def __init__(self, store: "ImageStore", h):
        self._h = h
        self._store = store  # for names and sizes, which the store keeps

    @property
    def digest(self) -> str:
        """The manifest digest, "sha256:<hex>", which names the image in the store."""
        return dec(F.keel_image_digest(self._handle()))

    @property
    def id(self) -> str:
        """The image ID: its config's digest (what ``docker images`` shows)."""
        return dec(F.keel_image_id(self._handle()))

    @property
    def config_json(self) -> str:
        """The OCI image config, as stored (a JSON text)."""
        return dec(F.keel_image_config(self._handle()))

    @property
    def config(self) -> dict:
        """The OCI image config, parsed: ``img.config["config"]["Cmd"]`` ..."""
        return json.loads(self.config_json)

    @property
    def platform(self) -> str:
        """"os/arch" or "os/arch/variant"."""
        return dec(F.keel_image_platform(self._handle()))

    @property
    def created(self) -> int:
        """When the image was made, seconds since the epoch (0 when the config does not say)."""
        return F.keel_image_created(self._handle())

    @property
    def layers(self) -> List[str]:
        """The unpacked layer directories, lowest first (overlayfs lower dirs)."""
        h = self._handle()
        return [dec(F.keel_image_layer_dir(h, i)) for i in range(F.keel_image_layer_count(h))]

    @property
    def sizes(self) -> ImageSizes:
        """Its sizes now (keel_image_sizes): they change as other images share its layers."""
        unique, total = ctypes.c_uint64(), ctypes.c_uint64()
        call(F.keel_image_sizes, self._store._handle(), self._handle(), ctypes.byref(unique),
             ctypes.byref(total))
        return ImageSizes(unique.value, total.value)

    @property
    def names(self) -> List[str]:
        """The names that point at it now, sorted (keel_image_names); empty when untagged."""
        p = ctypes.c_void_p()
        call(F.keel_image_names, self._store._handle(), self._handle(), ctypes.byref(p))
        return sorted(take_strv(p, F.keel_image_strv_free))

    def __repr__(self):
        if not self._h:
            return "<keel.Image closed>"
        return "<keel.Image %s>" % self.digest


class ImageStore(Handle):
    """A directory of images, blobs and unpacked layers (``keel_image_store``).

    ``root`` None is the library's default: /var/lib/keel for root,
    $XDG_DATA_HOME/keel otherwise. The store is made if missing. Several
    processes may use one store at once. Closing it leaves the images on disk.
    """

    _free, _what = "keel_image_store_free", "ImageStore"

    def __init__(self, root: Optional[str] = None):
        h = ctypes.c_void_p()
        call(F.keel_image_store_open, ctypes.byref(h), enc(root))
        self._h = h

    @property
    def root(self) -> str:
        """The store's directory."""
        return dec(F.keel_image_store_root(self._handle()))

    def import_(self, path: str, format: Union[str, int] = "auto", platform: Optional[str] = None,
                name: Optional[str] = None) -> str:
        """Import an image; return its manifest digest (keel_image_import).

        ``path``: an OCI layout directory, or an oci-archive, docker-archive
        or rootfs tar (gzip, zstd or none). ``format``: an :class:`ImageFormat`
        or its name ("auto", "oci-layout", "oci-archive", "docker-archive",
        "rootfs-tar"). ``platform``: "os/arch[/variant]" to pick from an index
        (None: this host's). ``name``: the name to give it, and the one to
        pick from an archive of several (None: the names the archive records).
        On failure nothing of it is left in the store.
        """
        digest = ctypes.c_void_p()
        call(F.keel_image_import, self._handle(), enc(path), _format(format), enc(platform),
             enc(name), ctypes.byref(digest))
        return take_string(digest)

    def open(self, ref: str) -> Image:
        """An image by name (``name[:tag]``) or digest (``sha256:...``, or 12+ hex digits)."""
        h = ctypes.c_void_p()
        call(F.keel_image_open, ctypes.byref(h), self._handle(), enc(ref))
        return Image(self, h)

    def digests(self) -> List[str]:
        """The manifest digests of every image, sorted (keel_image_list)."""
        p = ctypes.c_void_p()
        call(F.keel_image_list, self._handle(), ctypes.byref(p))
        return take_strv(p, F.keel_image_strv_free)

    def list(self) -> List[ImageSummary]:
        """Every image, with its names and sizes, like ``docker images``; sorted by digest.

        An image that another process removes while this runs is left out.
        """
        from .errors import KeelError
        out = []
        for d in self.digests():
            try:
                img = self.open(d)
            except KeelError as e:
                if e.errno == errno.ENOENT:
                    continue
                raise
            with img:
                sizes = img.sizes
                out.append(ImageSummary(img.digest, img.id, img.names, img.platform, img.created,
                                        F.keel_image_layer_count(img._h), sizes.total,
                                        sizes.unique))
        return out

    def tag(self, ref: str, name: str) -> None:
        """Give the image ``ref`` another name (moving the name if it pointed elsewhere)."""
        call(F.keel_image_tag, self._handle(), enc(ref), enc(name))

    def untag(self, name: str) -> None:
        """Remove a name; the image stays until :meth:`prune` (keel_image_untag)."""
        call(F.keel_image_untag, self._handle(), enc(name))

    def remove(self, ref: str, force: bool = False) -> None:
        """Remove an image, or by name only that name when it has others (keel_image_remove).

        Layers and blobs no other image uses go too. Refused (EBUSY) while a
        container made from it exists, unless ``force``.
        """
        call(F.keel_image_remove, self._handle(), enc(ref), _REMOVE_FORCE if force else 0)

    def prune(self) -> int:
        """Remove untagged, unused images and unreferenced layers and blobs; return the bytes freed."""
        freed = ctypes.c_uint64()
        call(F.keel_image_prune, self._handle(), ctypes.byref(freed))
        return freed.value

    def apply(self, image: Union[Image, str], container, cmd: Optional[Sequence[str]] = None) -> None:
        """Make ``container`` (not yet created) of the image (keel_image_apply).

        Adds the image's layers and sets the process from its config:
        Entrypoint + (``cmd`` or Cmd), Env, WorkingDir, User. Settings made
        on the container afterwards win; :meth:`keel.Container.from_image`
        does it in that order. The store records that the container uses the
        image, so :meth:`remove` refuses to remove it while it exists.
        """
        img = self.open(image) if isinstance(image, str) else image
        try:
            call(F.keel_image_apply, self._handle(), img._handle(), container._handle(), _cmd(cmd))
        finally:
            if img is not image:
                img.close()

    def commit(self, upper_dir: str, *, base: Union[Image, str, None] = None,
               cmd: Optional[Sequence[str]] = None, name: Optional[str] = None) -> str:
        """Commit a container's writable layer as a new image; return its digest (keel_image_commit).

        ``upper_dir``: the overlay upper dir (``<state_root>/<id>/layer/upper``
        by default; delete the container with ``keep_upper`` to keep it).
        ``base``: the image it was made from (None: a one-layer image).
        ``cmd``: a new Cmd (None keeps the base's). ``name``: the new image's name.
        """
        img = self.open(base) if isinstance(base, str) else base
        digest = ctypes.c_void_p()
        try:
            call(F.keel_image_commit, self._handle(), img._handle() if img is not None else None,
                 enc(upper_dir), _cmd(cmd), enc(name), ctypes.byref(digest))
        finally:
            if img is not base:
                img.close()
        return take_string(digest)

    def save(self, ref: str, path: str, format: Union[str, int] = "oci-archive") -> None:
        """Write an image as an OCI layout directory, oci-archive or docker-archive (keel_image_save).

        ``path`` must not exist. ``podman load`` reads what it writes.
        """
        call(F.keel_image_save, self._handle(), enc(ref), enc(path), _format(format))

    def __repr__(self):
        if not self._h:
            return "<keel.ImageStore closed>"
        return "<keel.ImageStore %s>" % self.root
