package keel

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The image tests build their OCI image layouts here, with archive/tar,
// compress/gzip and crypto/sha256 (never through keel), from the busybox
// rootfs: a base layer, and an upper layer that adds a file and deletes
// /home. Stores and container state live in the test's temporary dirs.

const (
	imgCreated      = "2024-01-02T03:04:05Z"
	imgCreatedEpoch = 1704164645
)

var imgCmd = []string{"sh", "-c", "echo $GREETING from $(pwd) as $(id -u):$(id -g); exit 5"}

func hostArch() string {
	switch runtime.GOARCH {
	case "arm":
		return "arm"
	default:
		return runtime.GOARCH // amd64, arm64 ... are the OCI names already
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// rootfsTar is the busybox rootfs as an uncompressed tar.
func rootfsTar(t *testing.T) []byte {
	t.Helper()
	root := rootfs(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.Walk(root, func(path string, fi os.FileInfo, err error) error {
		if err != nil || path == root || filepath.Base(path) == ".stamp" {
			return err
		}
		link := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		hdr.Name = rel
		if fi.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		}
		return nil
	})
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// upperTar adds /etc/added and deletes /home (an OCI whiteout).
func upperTar(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(tw.WriteHeader(&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0755}))
	for _, f := range [][2]string{{"etc/added", "from the upper layer\n"}, {".wh.home", ""}} {
		must(tw.WriteHeader(&tar.Header{Name: f[0], Typeflag: tar.TypeReg, Mode: 0644, Size: int64(len(f[1]))}))
		_, err := tw.Write([]byte(f[1]))
		must(err)
	}
	must(tw.Close())
	return buf.Bytes()
}

type ociLayout struct {
	path, digest, configDigest string
	config                     map[string]interface{}
}

// writeLayout writes an OCI layout of gzip'd layer tars whose config has
// cmd, Env (PATH, GREETING=hello), WorkingDir /etc and user.
func writeLayout(t *testing.T, dir string, tars [][]byte, cmd []string, user string) *ociLayout {
	t.Helper()
	return writeLayoutWith(t, dir, tars, cmd, user, nil)
}

// writeLayoutWith is writeLayout with more fields in the config's "config".
func writeLayoutWith(t *testing.T, dir string, tars [][]byte, cmd []string, user string, more map[string]interface{}) *ociLayout {
	t.Helper()
	l := &ociLayout{path: dir}
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0755); err != nil {
		t.Fatal(err)
	}
	write := func(rel string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, rel), b, 0644); err != nil {
			t.Fatal(err)
		}
	}
	blob := func(b []byte) string {
		d := sha(b)
		write(filepath.Join("blobs", "sha256", d[7:]), b)
		return d
	}
	marshal := func(v interface{}) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	layers, diffIDs := []interface{}{}, []interface{}{}
	for _, tb := range tars {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(tb)
		zw.Close()
		layers = append(layers, map[string]interface{}{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
			"digest": blob(gz.Bytes()), "size": gz.Len()})
		diffIDs = append(diffIDs, sha(tb))
	}
	var cmdJSON interface{}
	if cmd != nil {
		c := []interface{}{}
		for _, a := range cmd {
			c = append(c, a)
		}
		cmdJSON = c
	}
	l.config = map[string]interface{}{"architecture": hostArch(), "os": "linux", "created": imgCreated,
		"config": map[string]interface{}{"Cmd": cmdJSON, "Env": []interface{}{"PATH=/bin:/sbin", "GREETING=hello"},
			"WorkingDir": "/etc", "User": user},
		"rootfs": map[string]interface{}{"type": "layers", "diff_ids": diffIDs}}
	for k, v := range more {
		l.config["config"].(map[string]interface{})[k] = v
	}
	cfg := marshal(l.config)
	l.configDigest = blob(cfg)
	man := marshal(map[string]interface{}{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]interface{}{"mediaType": "application/vnd.oci.image.config.v1+json",
			"digest": l.configDigest, "size": len(cfg)},
		"layers": layers})
	l.digest = blob(man)
	write("index.json", marshal(map[string]interface{}{"schemaVersion": 2, "manifests": []interface{}{
		map[string]interface{}{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": l.digest,
			"size": len(man)}}}))
	write("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	return l
}

// testStore opens a store in a directory of the test's own, closed at cleanup.
func testStore(t *testing.T) (*ImageStore, string) {
	t.Helper()
	needs(t, missingFS("overlay"))
	dir := t.TempDir()
	s, err := OpenImageStore(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

// runImage runs a container of the image; its output and exit status.
func runImage(t *testing.T, s *ImageStore, ref string, opts ...Option) (string, ExitStatus) {
	t.Helper()
	r, w := pipe(t)
	opts = append([]Option{WithImageRef(s, ref), WithStateRoot(t.TempDir()), WithStdio(nil, w, os.Stderr)}, opts...)
	c := imageContainer(t, opts...)
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	out, _ := io.ReadAll(r)
	st, err := c.Wait(ctx30(t))
	if err != nil {
		t.Fatal(err)
	}
	return string(out), st
}

// imageContainer makes a container, deleted at cleanup.
func imageContainer(t *testing.T, opts ...Option) *Container {
	t.Helper()
	return cleanedContainer(t, opts...)
}

// regularBytes adds up the regular files' sizes under dirs, as the kernel reports them.
func regularBytes(t *testing.T, dirs []string) uint64 {
	var total uint64
	for _, d := range dirs {
		filepath.Walk(d, func(_ string, fi os.FileInfo, err error) error {
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().IsRegular() {
				total += uint64(fi.Size())
			}
			return nil
		})
	}
	return total
}

func TestImageImportOpenListAndRunItsCmd(t *testing.T) {
	s, dir := testStore(t)
	l := writeLayout(t, filepath.Join(dir, "l1"), [][]byte{rootfsTar(t), upperTar(t)}, imgCmd, "user")
	digest, err := s.Import(l.path, ImageFormatAuto, "", "kgo/img:v1")
	if err != nil {
		t.Fatal(err)
	}
	if digest != l.digest {
		t.Fatalf("Import digest %s, the layout's manifest is %s", digest, l.digest)
	}
	img, err := s.Open("kgo/img:v1")
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if img.Digest() != l.digest || img.ID() != l.configDigest || img.Platform() != "linux/"+hostArch() ||
		img.Created().Unix() != imgCreatedEpoch {
		t.Fatalf("image %s id %s platform %s created %v", img.Digest(), img.ID(), img.Platform(), img.Created())
	}
	var raw map[string]interface{}
	if err := json.Unmarshal([]byte(img.ConfigJSON()), &raw); err != nil || !reflect.DeepEqual(raw, l.config) {
		t.Fatalf("config %s (%v), want %v", img.ConfigJSON(), err, l.config)
	}
	cfg, err := img.Config()
	if err != nil || !reflect.DeepEqual(cfg.Config.Cmd, imgCmd) || cfg.Config.WorkingDir != "/etc" ||
		cfg.Config.User != "user" || len(cfg.RootFS.DiffIDs) != 2 || !cfg.Created.Equal(time.Unix(imgCreatedEpoch, 0)) {
		t.Fatalf("Config %+v %v", cfg, err)
	}
	layers := img.Layers()
	if len(layers) != 2 {
		t.Fatalf("layers %v", layers)
	}
	if _, err := os.Stat(filepath.Join(layers[0], "bin", "busybox")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(layers[1], "etc", "added")); got != "from the upper layer\n" {
		t.Fatalf("etc/added %q", got)
	}
	unique, total, err := img.Sizes()
	if err != nil || total != regularBytes(t, layers) || unique != total {
		t.Fatalf("sizes unique %d total %d (%v), files %d", unique, total, err, regularBytes(t, layers))
	}
	if names, err := img.Names(); err != nil || !reflect.DeepEqual(names, []string{"kgo/img:v1"}) {
		t.Fatalf("names %v %v", names, err)
	}
	again, err := s.Open(l.digest[:19]) // a prefix of 12 hex digits
	if err != nil || again.Digest() != l.digest {
		t.Fatalf("open by prefix: %v", err)
	}
	again.Close()
	list, err := s.List()
	want := []ImageSummary{{Digest: l.digest, ID: l.configDigest, Names: []string{"kgo/img:v1"},
		Platform: "linux/" + hostArch(), Created: time.Unix(imgCreatedEpoch, 0), Layers: 2,
		Size: total, UniqueSize: unique}}
	if err != nil || !reflect.DeepEqual(list, want) {
		t.Fatalf("List %+v %v, want %+v", list, err, want)
	}

	// The image's Cmd, Env, WorkingDir and User (1000:1000 from its /etc/passwd).
	if out, st := runImage(t, s, "kgo/img:v1"); out != "hello from /etc as 1000:1000\n" || st != (ExitStatus{Code: 5}) {
		t.Fatalf("image Cmd: %q %+v", out, st)
	}
	// cmd replaces the Cmd: the upper layer's file is there, /home is deleted.
	out, st := runImage(t, s, "kgo/img:v1", WithImage(s, img, "sh", "-c", "cat /etc/added; test ! -e /home"))
	if out != "from the upper layer\n" || st != (ExitStatus{}) {
		t.Fatalf("cmd: %q %+v", out, st)
	}
	// The other options win over the image's config.
	out, st = runImage(t, s, "kgo/img:v1", WithEnv("GREETING", "hi"), WithCwd("/tmp"), WithUser(0, 0))
	if out != "hi from /tmp as 0:0\n" || st != (ExitStatus{Code: 5}) {
		t.Fatalf("overrides: %q %+v", out, st)
	}
	if out, st = runImage(t, s, "kgo/img:v1", WithArgs("echo", "args")); out != "args\n" || st != (ExitStatus{}) {
		t.Fatalf("WithArgs: %q %+v", out, st)
	}
	// Apply on a container made without WithImage.
	r, w := pipe(t)
	c := imageContainer(t, WithStateRoot(t.TempDir()), WithStdio(nil, w, os.Stderr))
	if err := s.Apply(img, c, "echo", "applied"); err != nil {
		t.Fatal(err)
	}
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	b, _ := io.ReadAll(r)
	if st, err := c.Wait(ctx30(t)); err != nil || st != (ExitStatus{}) || string(b) != "applied\n" {
		t.Fatalf("Apply: %q %+v %v", b, st, err)
	}
}

func TestImageStopSignalAndOverride(t *testing.T) {
	s, dir := testStore(t)
	l := writeLayoutWith(t, filepath.Join(dir, "ls"), [][]byte{rootfsTar(t)}, imgCmd, "",
		map[string]interface{}{"StopSignal": "SIGUSR1"})
	if _, err := s.Import(l.path, ImageFormatAuto, "", "kgo/stop:v1"); err != nil {
		t.Fatal(err)
	}
	c := imageContainer(t, WithImageRef(s, "kgo/stop:v1"), WithStateRoot(t.TempDir()), WithArgs("sleep", "600"))
	if sig := c.StopSignal(); sig != syscall.SIGUSR1 {
		t.Fatalf("stop signal %v, want the image's SIGUSR1", sig)
	}
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	wantLoadedStopSignal(t, c, syscall.SIGUSR1)
	// WithStopSignal is applied after the image: it wins.
	o := imageContainer(t, WithImageRef(s, "kgo/stop:v1"), WithStateRoot(t.TempDir()), WithStopSignal(syscall.SIGINT))
	if sig := o.StopSignal(); sig != syscall.SIGINT {
		t.Fatalf("stop signal %v, want the option's SIGINT", sig)
	}
	// An image without StopSignal leaves SIGTERM.
	p := writeLayout(t, filepath.Join(dir, "lp"), [][]byte{rootfsTar(t)}, imgCmd, "")
	if _, err := s.Import(p.path, ImageFormatAuto, "", "kgo/plain:v1"); err != nil {
		t.Fatal(err)
	}
	if sig := imageContainer(t, WithImageRef(s, "kgo/plain:v1"), WithStateRoot(t.TempDir())).StopSignal(); sig != syscall.SIGTERM {
		t.Fatalf("stop signal %v, want SIGTERM", sig)
	}
}

func names(t *testing.T, s *ImageStore) map[string][]string {
	t.Helper()
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]string{}
	for _, r := range list {
		m[r.Digest] = r.Names
	}
	return m
}

func layerDirs(t *testing.T, s *ImageStore) int {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(s.Root(), "layers"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if e.IsDir() {
			n++
		}
	}
	return n
}

func TestImageTagUntagRemoveAndPruneChangeTheList(t *testing.T) {
	s, dir := testStore(t)
	base, upper := rootfsTar(t), upperTar(t)
	la := writeLayout(t, filepath.Join(dir, "la"), [][]byte{base}, []string{"true"}, "")
	lb := writeLayout(t, filepath.Join(dir, "lb"), [][]byte{base, upper}, imgCmd, "")
	if _, err := s.Import(la.path, ImageFormatAuto, "", "kgo/base"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(lb.path, ImageFormatOCILayout, "", "kgo/top:1"); err != nil {
		t.Fatal(err)
	}
	eq := func(got, want map[string][]string) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("names %v, want %v", got, want)
		}
	}
	eq(names(t, s), map[string][]string{la.digest: {"kgo/base:latest"}, lb.digest: {"kgo/top:1"}})
	list, _ := s.List()
	rows := map[string]ImageSummary{}
	for _, r := range list {
		rows[r.Digest] = r
	}
	a, b := rows[la.digest], rows[lb.digest]
	if a.UniqueSize != 0 || b.Size != a.Size+b.UniqueSize || b.UniqueSize != uint64(len("from the upper layer\n")) {
		t.Fatalf("sizes: base %+v top %+v", a, b)
	}

	if err := s.Tag("kgo/top:1", "kgo/again"); err != nil {
		t.Fatal(err)
	}
	eq(names(t, s), map[string][]string{la.digest: {"kgo/base:latest"}, lb.digest: {"kgo/again:latest", "kgo/top:1"}})
	if err := s.Remove("kgo/top:1"); err != nil { // one name of two: only the name goes
		t.Fatal(err)
	}
	eq(names(t, s), map[string][]string{la.digest: {"kgo/base:latest"}, lb.digest: {"kgo/again:latest"}})
	if err := s.Untag("kgo/again"); err != nil {
		t.Fatal(err)
	}
	eq(names(t, s), map[string][]string{la.digest: {"kgo/base:latest"}, lb.digest: {}})
	if n := layerDirs(t, s); n != 2 {
		t.Fatalf("%d layer dirs, want 2", n)
	}
	freed, err := s.Prune()
	if err != nil || freed < b.UniqueSize {
		t.Fatalf("Prune freed %d (%v), want at least %d", freed, err, b.UniqueSize)
	}
	eq(names(t, s), map[string][]string{la.digest: {"kgo/base:latest"}})
	if n := layerDirs(t, s); n != 1 {
		t.Fatalf("%d layer dirs after prune, want 1 (the shared base)", n)
	}
	if err := s.Remove("kgo/base"); err != nil {
		t.Fatal(err)
	}
	eq(names(t, s), map[string][]string{})
	if n := layerDirs(t, s); n != 0 {
		t.Fatalf("%d layer dirs after remove", n)
	}
}

func TestImageInUseIsNotRemoved(t *testing.T) {
	s, dir := testStore(t)
	l := writeLayout(t, filepath.Join(dir, "l"), [][]byte{rootfsTar(t)}, imgCmd, "")
	if _, err := s.Import(l.path, ImageFormatAuto, "", "kgo/used"); err != nil {
		t.Fatal(err)
	}
	c := imageContainer(t, WithImageRef(s, "kgo/used"), WithStateRoot(t.TempDir()), WithArgs("sleep", "600"))
	if err := c.Create(); err != nil {
		t.Fatal(err)
	}
	checkErr(t, s.Remove("kgo/used"), syscall.EBUSY, c.ID())
	if err := c.Delete(DeleteForce); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("kgo/used"); err != nil {
		t.Fatal(err)
	}
	if list, err := s.List(); err != nil || len(list) != 0 {
		t.Fatalf("List %v %v", list, err)
	}
}

func TestImageCommitAndSaveRoundTrip(t *testing.T) {
	s, dir := testStore(t)
	l := writeLayout(t, filepath.Join(dir, "l"), [][]byte{rootfsTar(t)}, imgCmd, "root") // root: it writes to /
	if _, err := s.Import(l.path, ImageFormatAuto, "", "kgo/base"); err != nil {
		t.Fatal(err)
	}
	base, err := s.Open("kgo/base")
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	c := imageContainer(t, WithImage(s, base, "sh", "-c", "echo committed > /new && rm -r /home"),
		WithStateRoot(t.TempDir()))
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Wait(ctx30(t)); err != nil || st != (ExitStatus{}) {
		t.Fatalf("change: %+v %v", st, err)
	}
	upper := filepath.Join(c.StateRoot(), c.ID(), "layer", "upper")
	digest, err := s.Commit(upper, base, []string{"cat", "/new"}, "kgo/done")
	if err != nil {
		t.Fatal(err)
	}
	done, err := s.Open("kgo/done")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := done.Config()
	if err != nil || done.Digest() != digest || len(done.Layers()) != 2 || !reflect.DeepEqual(cfg.Config.Cmd, []string{"cat", "/new"}) {
		t.Fatalf("committed %s layers %v config %+v %v", done.Digest(), done.Layers(), cfg, err)
	}
	done.Close()
	if out, st := runImage(t, s, "kgo/done"); out != "committed\n" || st != (ExitStatus{}) {
		t.Fatalf("committed image: %q %+v", out, st)
	}
	if _, st := runImage(t, s, "kgo/done", WithImageRef(s, "kgo/done", "sh", "-c", "test -e /home")); st.Code != 1 {
		t.Fatalf("/home is still there: %+v", st)
	}

	saved := filepath.Join(dir, "saved.tar")
	if err := s.Save("kgo/done", saved, ImageFormatOCIArchive); err != nil {
		t.Fatal(err)
	}
	checkErr(t, s.Save("kgo/done", saved, ImageFormatOCIArchive), syscall.EEXIST, saved)
	other, err := OpenImageStore(filepath.Join(dir, "other"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if d, err := other.Import(saved, ImageFormatAuto, "", ""); err != nil || d != digest {
		t.Fatalf("re-import %s %v, want %s", d, err, digest)
	}
	if n := names(t, other); !reflect.DeepEqual(n, map[string][]string{digest: {"kgo/done:latest"}}) {
		t.Fatalf("re-imported names %v", n)
	}
}

func TestImageErrorsCarryKeelsMessage(t *testing.T) {
	s, dir := testStore(t)
	missing := filepath.Join(dir, "no-such-image.tar")
	_, err := s.Import(missing, ImageFormatAuto, "", "")
	checkErr(t, err, syscall.ENOENT, missing)
	if list, err := s.List(); err != nil || len(list) != 0 {
		t.Fatalf("List after a failed import: %v %v", list, err)
	}
	_, err = s.Open("kgo/nothing:here")
	checkErr(t, err, syscall.ENOENT, "kgo/nothing:here")
	_, err = OpenImageStore("relative/store")
	checkErr(t, err, syscall.EINVAL, "relative/store")

	l := writeLayout(t, filepath.Join(dir, "l"), [][]byte{rootfsTar(t)}, nil, "")
	if _, err := s.Import(l.path, ImageFormatAuto, "", "kgo/nocmd"); err != nil {
		t.Fatal(err)
	}
	_, err = NewContainer(unique("kgo"), WithImageRef(s, "kgo/nocmd"), WithStateRoot(t.TempDir()))
	checkErr(t, err, syscall.EINVAL, "no Entrypoint or Cmd")
	_, err = NewContainer(unique("kgo"), WithImageRef(s, "kgo/nocmd"), WithLayers(rootfs(t)), WithStateRoot(t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "WithImage excludes") {
		t.Fatalf("WithImage + WithLayers: %v", err)
	}
	_, err = NewContainer(unique("kgo"), WithImageRef(s, "kgo/nothing"), WithStateRoot(t.TempDir()))
	checkErr(t, err, syscall.ENOENT, "kgo/nothing")

	// Closed handles say so instead of crashing.
	img, err := s.Open("kgo/nocmd")
	if err != nil {
		t.Fatal(err)
	}
	img.Close()
	if _, _, err := img.Sizes(); !errors.Is(err, os.ErrClosed) || img.Digest() != "" {
		t.Fatalf("Sizes of a closed image: %v", err)
	}
	s.Close()
	if _, err := s.List(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("List of a closed store: %v", err)
	}
}
