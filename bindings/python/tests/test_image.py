"""keel.ImageStore and keel.Image: import, list, run, tag, remove, prune, commit, save.

Each test builds its OCI image layout here, with tarfile, gzip and hashlib
(never through keel), from the busybox rootfs: a base layer, and an upper
layer that adds a file and deletes /home. Stores and container state live
in the test's temporary directories and are removed at cleanup.
"""

import errno
import gzip
import hashlib
import io
import json
import os
import platform
import shutil
import signal
import tarfile
import tempfile
import unittest

import keel
from helpers import ROOTFS, StateRootCase, unique

CREATED = "2024-01-02T03:04:05Z"
CREATED_EPOCH = 1704164645
CMD = ["sh", "-c", "echo $GREETING from $(pwd) as $(id -u):$(id -g); exit 5"]
_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
         "s390x": "s390x", "riscv64": "riscv64", "i686": "386"}
HOST_ARCH = _ARCH.get(platform.machine(), platform.machine())


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_of_rootfs():
    """The busybox rootfs as an uncompressed tar."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(os.listdir(ROOTFS)):
            if name != ".stamp":
                t.add(os.path.join(ROOTFS, name), arcname=name)
    return buf.getvalue()


def tar_of_upper():
    """A layer that adds /etc/added and deletes /home (an OCI whiteout)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        d = tarfile.TarInfo("etc")
        d.type, d.mode = tarfile.DIRTYPE, 0o755
        t.addfile(d)
        for name, data in (("etc/added", b"from the upper layer\n"), (".wh.home", b"")):
            f = tarfile.TarInfo(name)
            f.size, f.mode = len(data), 0o644
            t.addfile(f, io.BytesIO(data))
    return buf.getvalue()


class Layout:
    """An OCI image layout on disk, and the digests it was written with."""

    def __init__(self, path, tars, cmd, ref_name=None, user="user", stop_signal=None):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"))
        layers, diff_ids = [], []
        for tar in tars:
            blob = gzip.compress(tar, mtime=0)
            layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                           "digest": self._blob(blob), "size": len(blob)})
            diff_ids.append(sha256(tar))
        self.config = {"architecture": HOST_ARCH, "os": "linux", "created": CREATED,
                       "config": {"Cmd": cmd, "Env": ["PATH=/bin:/sbin", "GREETING=hello"],
                                  "WorkingDir": "/etc", "User": user},
                       "rootfs": {"type": "layers", "diff_ids": diff_ids}}
        if stop_signal is not None:
            self.config["config"]["StopSignal"] = stop_signal
        cfg = json.dumps(self.config).encode()
        self.config_digest = self._blob(cfg)
        manifest = json.dumps({"schemaVersion": 2,
                               "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                          "digest": self.config_digest, "size": len(cfg)},
                               "layers": layers}).encode()
        self.digest = self._blob(manifest)
        entry = {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                 "digest": self.digest, "size": len(manifest)}
        if ref_name:
            entry["annotations"] = {"org.opencontainers.image.ref.name": ref_name}
        self._write("index.json", json.dumps({"schemaVersion": 2, "manifests": [entry]}).encode())
        self._write("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')

    def _blob(self, data):
        d = sha256(data)
        self._write(os.path.join("blobs", "sha256", d[7:]), data)
        return d

    def _write(self, rel, data):
        with open(os.path.join(self.path, rel), "wb") as f:
            f.write(data)


def regular_bytes(dirs):
    """The bytes of the regular files under the directories, as the kernel reports them."""
    total = 0
    for top in dirs:
        for root, _dirs, files in os.walk(top):
            for f in files:
                st = os.lstat(os.path.join(root, f))
                if (st.st_mode & 0o170000) == 0o100000:
                    total += st.st_size
    return total


class ImageCase(StateRootCase):
    def setUp(self):
        super().setUp()
        if not keel.has("keel_image_store_open"):
            self.fail("libkeel %s has no keel_image_store_open" % keel.version())
        self.tmp = tempfile.mkdtemp(prefix="keel-py-image-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.store = keel.ImageStore(os.path.join(self.tmp, "store"))
        self.addCleanup(self.store.close)

    def layout(self, name, tars, cmd=CMD, **kw):
        return Layout(os.path.join(self.tmp, name), tars, cmd, **kw)

    def from_image(self, image, **kw):
        """A container of the image in the test's state root, deleted at cleanup."""
        kw.setdefault("state_root", self.state_root)
        c = keel.Container.from_image(self.store, image, unique(), **kw)
        self.addCleanup(self._drop, c)
        return c

    def run_image(self, image, **kw):
        """Run the image; its output and exit status."""
        c = self.from_image(image, stdout=keel.PIPE, **kw)
        c.run()
        out = c.stdout.read().decode()
        return out, c.wait(timeout=30)


class TestImage(ImageCase):
    def test_import_open_list_and_run_the_images_cmd(self):
        lay = self.layout("l1", [tar_of_rootfs(), tar_of_upper()], ref_name="kpy/ref:v1")
        digest = self.store.import_(lay.path, name="kpy/img:v1")
        self.assertEqual(digest, lay.digest)  # the manifest kept byte for byte
        with self.store.open("kpy/img:v1") as img:
            self.assertEqual(img.digest, lay.digest)
            self.assertEqual(img.id, lay.config_digest)
            self.assertEqual(img.config, lay.config)
            self.assertEqual(img.platform, "linux/" + HOST_ARCH)
            self.assertEqual(img.created, CREATED_EPOCH)
            self.assertEqual(img.names, ["kpy/img:v1"])
            layers = img.layers
            self.assertEqual(len(layers), 2)
            self.assertTrue(os.path.isfile(os.path.join(layers[0], "bin", "busybox")))
            with open(os.path.join(layers[1], "etc", "added")) as f:
                self.assertEqual(f.read(), "from the upper layer\n")
            sizes = img.sizes
            self.assertEqual(sizes.total, regular_bytes(layers))
            self.assertEqual(sizes.unique, sizes.total)  # no other image shares its layers
            # Opened by a digest prefix of 12 hex digits, it is the same image.
            with self.store.open(lay.digest[:19]) as again:
                self.assertEqual(again.digest, img.digest)
        [row] = self.store.list()
        self.assertEqual(row, keel.ImageSummary(lay.digest, lay.config_digest, ["kpy/img:v1"],
                                                "linux/" + HOST_ARCH, CREATED_EPOCH, 2,
                                                sizes.total, sizes.unique))
        self.assertEqual(self.store.digests(), [lay.digest])

        # The image's Cmd, Env, WorkingDir and User (1000:1000 from its /etc/passwd).
        self.assertEqual(self.run_image("kpy/img:v1"),
                         ("hello from /etc as 1000:1000\n", keel.ExitStatus(5, 0)))
        # cmd replaces the Cmd; the upper layer's file is there and /home is deleted.
        out, st = self.run_image("kpy/img:v1", cmd=["sh", "-c", "cat /etc/added; test ! -e /home"])
        self.assertEqual((out, st), ("from the upper layer\n", keel.ExitStatus(0, 0)))
        # The constructor's arguments win over the image's config.
        with self.store.open("kpy/img:v1") as img:
            out, st = self.run_image(img, env={"GREETING": "hi"}, cwd="/tmp", user=(0, 0))
        self.assertEqual((out, st), ("hi from /tmp as 0:0\n", keel.ExitStatus(5, 0)))
        out, st = self.run_image("kpy/img:v1", args=["echo", "args"])
        self.assertEqual((out, st), ("args\n", keel.ExitStatus(0, 0)))

    def test_the_images_stop_signal_and_the_override(self):
        lay = self.layout("ls", [tar_of_rootfs()], stop_signal="SIGUSR1")
        self.store.import_(lay.path, name="kpy/stop:v1")
        c = self.from_image("kpy/stop:v1", args=["sleep", "600"])
        self.assertIs(c.stop_signal, signal.SIGUSR1)
        c.create()
        with keel.Container.load(c.id, self.state_root) as other:
            self.assertIs(other.stop_signal, signal.SIGUSR1)
        # The keyword is applied after the image: it wins.
        self.assertIs(self.from_image("kpy/stop:v1", stop_signal=signal.SIGINT).stop_signal,
                      signal.SIGINT)
        # An image without StopSignal leaves SIGTERM.
        plain = self.layout("lp", [tar_of_rootfs()])
        self.store.import_(plain.path, name="kpy/plain:v1")
        self.assertIs(self.from_image("kpy/plain:v1").stop_signal, signal.SIGTERM)

    def test_tag_untag_remove_and_prune_change_the_list(self):
        base, upper = tar_of_rootfs(), tar_of_upper()
        la = self.layout("la", [base], cmd=["true"])
        lb = self.layout("lb", [base, upper])
        self.store.import_(la.path, name="kpy/base")
        self.store.import_(lb.path, format="oci-layout", name="kpy/top:1")

        def names():
            return {r.digest: r.names for r in self.store.list()}

        self.assertEqual(names(), {la.digest: ["kpy/base:latest"], lb.digest: ["kpy/top:1"]})
        rows = {r.digest: r for r in self.store.list()}
        self.assertEqual(rows[la.digest].unique_size, 0)   # all of base is shared with top
        self.assertEqual(rows[lb.digest].size, rows[la.digest].size + rows[lb.digest].unique_size)
        self.assertEqual(rows[lb.digest].unique_size, len("from the upper layer\n"))

        self.store.tag("kpy/top:1", "kpy/again")
        self.assertEqual(names()[lb.digest], ["kpy/again:latest", "kpy/top:1"])
        self.store.remove("kpy/top:1")                     # one name of two: only the name goes
        self.assertEqual(names(), {la.digest: ["kpy/base:latest"], lb.digest: ["kpy/again:latest"]})
        self.store.untag("kpy/again")
        self.assertEqual(names(), {la.digest: ["kpy/base:latest"], lb.digest: []})
        layers = os.path.join(self.store.root, "layers")
        self.assertEqual(len([n for n in os.listdir(layers) if not n.endswith(".json")]), 2)
        freed = self.store.prune()                         # the untagged top goes
        self.assertGreaterEqual(freed, rows[lb.digest].unique_size)
        self.assertEqual(names(), {la.digest: ["kpy/base:latest"]})
        self.assertEqual(len([n for n in os.listdir(layers) if not n.endswith(".json")]), 1)
        self.store.remove("kpy/base")
        self.assertEqual(self.store.list(), [])
        self.assertEqual(os.listdir(layers), [])

    def test_an_image_in_use_is_not_removed(self):
        lay = self.layout("l", [tar_of_rootfs()])
        self.store.import_(lay.path, name="kpy/used")
        c = self.from_image("kpy/used", args=["sleep", "600"])
        c.create()
        with self.assertRaises(keel.KeelError) as cm:
            self.store.remove("kpy/used")
        self.assertEqual(cm.exception.errno, errno.EBUSY)
        self.assertIn(c.id, cm.exception.message)
        c.delete(force=True)
        self.store.remove("kpy/used")
        self.assertEqual(self.store.list(), [])

    def test_commit_and_save_round_trip(self):
        lay = self.layout("l", [tar_of_rootfs()], user="root")  # root: it writes to /
        self.store.import_(lay.path, name="kpy/base")
        c = self.from_image("kpy/base", cmd=["sh", "-c", "echo committed > /new && rm -r /home"])
        c.run()
        self.assertEqual(c.wait(timeout=30), keel.ExitStatus(0, 0))
        upper = os.path.join(c.state_root, c.id, "layer", "upper")
        digest = self.store.commit(upper, base="kpy/base", cmd=["cat", "/new"], name="kpy/done")
        with self.store.open("kpy/done") as img:
            self.assertEqual(img.digest, digest)
            self.assertEqual(len(img.layers), 2)
            self.assertEqual(img.config["config"]["Cmd"], ["cat", "/new"])
        out, st = self.run_image("kpy/done")
        self.assertEqual((out, st), ("committed\n", keel.ExitStatus(0, 0)))
        self.assertEqual(self.run_image("kpy/done", cmd=["sh", "-c", "test -e /home"])[1].code, 1)

        saved = os.path.join(self.tmp, "saved.tar")
        self.store.save("kpy/done", saved, "oci-archive")
        with self.assertRaises(keel.KeelError) as cm:
            self.store.save("kpy/done", saved, keel.ImageFormat.OCI_ARCHIVE)
        self.assertEqual(cm.exception.errno, errno.EEXIST)
        with keel.ImageStore(os.path.join(self.tmp, "other")) as other:
            self.assertEqual(other.import_(saved), digest)
            self.assertEqual([r.names for r in other.list()], [["kpy/done:latest"]])

    def test_errors_carry_keels_message(self):
        missing = os.path.join(self.tmp, "no-such-image.tar")
        with self.assertRaises(keel.KeelError) as cm:
            self.store.import_(missing)
        self.assertEqual(cm.exception.errno, errno.ENOENT)
        self.assertIn(missing, cm.exception.message)
        self.assertIn(missing, str(cm.exception))
        self.assertEqual(self.store.list(), [])            # nothing left of it
        with self.assertRaises(keel.KeelError) as cm:
            self.store.open("kpy/nothing:here")
        self.assertEqual(cm.exception.errno, errno.ENOENT)
        self.assertIn("kpy/nothing:here", cm.exception.message)
        with self.assertRaises(keel.KeelError) as cm:
            keel.ImageStore("relative/store")
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        self.assertIn("relative/store", cm.exception.message)
        with self.assertRaises(ValueError):
            self.store.import_(missing, format="tarball")
        lay = self.layout("l", [tar_of_rootfs()], cmd=None, user="")
        self.store.import_(lay.path, name="kpy/nocmd")
        with self.assertRaises(keel.KeelError) as cm:
            keel.Container.from_image(self.store, "kpy/nocmd", unique(), state_root=self.state_root)
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        self.assertIn("no Entrypoint or Cmd", cm.exception.message)
        with self.assertRaises(TypeError):
            keel.Container.from_image(self.store, "kpy/nocmd", unique(), layers=[ROOTFS])


if __name__ == "__main__":
    unittest.main()
