package keel

/*
#include <stdlib.h>
#include <keel.h>
*/
import "C"

import (
	"encoding/json"
	"errors"
	"os"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"time"
)

// ImageFormat is what Import reads and Save writes (enum keel_image_format).
type ImageFormat int

// The formats. Values are those of the C library and never change.
const (
	ImageFormatAuto          ImageFormat = C.KEEL_IMAGE_FORMAT_AUTO           // Import: find out from the contents
	ImageFormatOCILayout     ImageFormat = C.KEEL_IMAGE_FORMAT_OCI_LAYOUT     // an OCI image layout directory
	ImageFormatOCIArchive    ImageFormat = C.KEEL_IMAGE_FORMAT_OCI_ARCHIVE    // a tar of an OCI image layout
	ImageFormatDockerArchive ImageFormat = C.KEEL_IMAGE_FORMAT_DOCKER_ARCHIVE // what `docker save` writes
	ImageFormatRootfsTar     ImageFormat = C.KEEL_IMAGE_FORMAT_ROOTFS_TAR     // a plain rootfs tar: a one-layer image
)

// ImageRemoveFlag changes what Remove does.
type ImageRemoveFlag uint

// ImageRemoveForce removes an image even while a container made from it exists.
const ImageRemoveForce ImageRemoveFlag = C.KEEL_IMAGE_REMOVE_FORCE

// ImageStore is a directory of images, blobs and unpacked layers
// (keel_image_store). Several processes may use one store at once. Close
// frees the handle; the images stay on disk.
type ImageStore struct {
	mu sync.Mutex
	h  *C.keel_image_store
}

// OpenImageStore opens (and makes, if missing) an image store. root ""
// is the library's default: /var/lib/keel for root, $XDG_DATA_HOME/keel
// otherwise (keel_image_store_open).
func OpenImageStore(root string) (*ImageStore, error) {
	if err := CheckVersion(); err != nil {
		return nil, err
	}
	r := cstr(root)
	defer freeStr(r)
	var h *C.keel_image_store
	var cerr *C.keel_error
	if err := check(C.keel_image_store_open(&h, r, &cerr), &cerr); err != nil {
		return nil, err
	}
	s := &ImageStore{h: h}
	runtime.SetFinalizer(s, (*ImageStore).Close)
	return s, nil
}

func (s *ImageStore) lock() error {
	s.mu.Lock()
	if s.h == nil {
		s.mu.Unlock()
		return os.ErrClosed
	}
	return nil
}

// call runs one fallible libkeel call on the store under its mutex.
func (s *ImageStore) call(f func(h *C.keel_image_store, cerr **C.keel_error) C.int) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	var cerr *C.keel_error
	return check(f(s.h, &cerr), &cerr)
}

// locked runs f with the store and an image locked, in that order (the
// only order this package takes both in, and before a container's mutex).
func (s *ImageStore) locked(img *Image, f func(h *C.keel_image_store, i *C.keel_image) error) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if err := img.lock(); err != nil {
		return err
	}
	defer img.mu.Unlock()
	return f(s.h, img.h)
}

// withImage runs one fallible libkeel call on the store and an image.
func (s *ImageStore) withImage(img *Image, f func(h *C.keel_image_store, i *C.keel_image, cerr **C.keel_error) C.int) error {
	return s.locked(img, func(h *C.keel_image_store, i *C.keel_image) error {
		var cerr *C.keel_error
		return check(f(h, i, &cerr), &cerr)
	})
}

// Root is the store's directory ("" after Close).
func (s *ImageStore) Root() string {
	if s.lock() != nil {
		return ""
	}
	defer s.mu.Unlock()
	return C.GoString(C.keel_image_store_root(s.h))
}

// Import reads an image into the store and returns its manifest digest
// (keel_image_import). path is an OCI layout directory, or an oci-archive,
// docker-archive or rootfs tar (gzip, zstd or none). platform
// ("os/arch[/variant]") picks from a multi-platform index; "" is this
// host's. name is the name to give it and the one to pick from an archive
// of several; "" keeps the names the archive records. On failure nothing
// of it is left in the store.
func (s *ImageStore) Import(path string, format ImageFormat, platform, name string) (string, error) {
	p, pl, n := cstr(path), cstr(platform), cstr(name)
	defer freeStr(p)
	defer freeStr(pl)
	defer freeStr(n)
	var digest *C.char
	err := s.call(func(h *C.keel_image_store, cerr **C.keel_error) C.int {
		return C.keel_image_import(h, p, C.int(format), pl, n, &digest, cerr)
	})
	if err != nil {
		return "", err
	}
	return takeString(digest), nil
}

// Open opens an image by name (`name[:tag]`) or manifest digest
// (`sha256:...`, or a unique prefix of 12 or more hex digits). Close it.
func (s *ImageStore) Open(ref string) (*Image, error) {
	r := cstr(ref)
	defer freeStr(r)
	var h *C.keel_image
	err := s.call(func(sh *C.keel_image_store, cerr **C.keel_error) C.int {
		return C.keel_image_open(&h, sh, r, cerr)
	})
	if err != nil {
		return nil, err
	}
	img := &Image{h: h, store: s}
	runtime.SetFinalizer(img, (*Image).Close)
	return img, nil
}

// Digests returns the manifest digest of every image, sorted (keel_image_list).
func (s *ImageStore) Digests() ([]string, error) {
	var l **C.char
	err := s.call(func(h *C.keel_image_store, cerr **C.keel_error) C.int { return C.keel_image_list(h, &l, cerr) })
	if err != nil {
		return nil, err
	}
	defer C.keel_image_strv_free(l)
	return goStrv(l), nil
}

// ImageSummary is one image as List shows it, like a line of `docker images`.
type ImageSummary struct {
	Digest     string    // the manifest digest, "sha256:..."
	ID         string    // the config digest
	Names      []string  // the names that point at it, sorted (empty when untagged)
	Platform   string    // "os/arch[/variant]"
	Created    time.Time // zero when the config does not say
	Layers     int       // how many layers
	Size       uint64    // bytes of all its layers, shared or not (the virtual size)
	UniqueSize uint64    // bytes of the layers no other image has
}

// List returns every image with its names and sizes, sorted by digest. An
// image another process removes meanwhile is left out.
func (s *ImageStore) List() ([]ImageSummary, error) {
	digests, err := s.Digests()
	if err != nil {
		return nil, err
	}
	out := []ImageSummary{}
	for _, d := range digests {
		img, err := s.Open(d)
		if errors.Is(err, syscall.ENOENT) {
			continue
		}
		if err != nil {
			return nil, err
		}
		sum, err := img.summary()
		img.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, sum)
	}
	return out, nil
}

// Tag gives the image ref another name (moving the name if it pointed elsewhere).
func (s *ImageStore) Tag(ref, name string) error {
	r, n := cstr(ref), cstr(name)
	defer freeStr(r)
	defer freeStr(n)
	return s.call(func(h *C.keel_image_store, cerr **C.keel_error) C.int { return C.keel_image_tag(h, r, n, cerr) })
}

// Untag removes a name; the image stays until Prune (keel_image_untag).
func (s *ImageStore) Untag(name string) error {
	n := cstr(name)
	defer freeStr(n)
	return s.call(func(h *C.keel_image_store, cerr **C.keel_error) C.int { return C.keel_image_untag(h, n, cerr) })
}

// Remove removes an image, or by name only that name when the image has
// others, then the layers and blobs no other image uses (keel_image_remove).
// It fails with EBUSY while a container made from the image exists, unless
// ImageRemoveForce is given.
func (s *ImageStore) Remove(ref string, flags ...ImageRemoveFlag) error {
	var f ImageRemoveFlag
	for _, x := range flags {
		f |= x
	}
	r := cstr(ref)
	defer freeStr(r)
	return s.call(func(h *C.keel_image_store, cerr **C.keel_error) C.int {
		return C.keel_image_remove(h, r, C.uint(f), cerr)
	})
}

// Prune removes untagged images no container uses, then every layer and
// blob no image refers to, and returns the bytes freed (keel_image_prune).
func (s *ImageStore) Prune() (uint64, error) {
	var freed C.uint64_t
	err := s.call(func(h *C.keel_image_store, cerr **C.keel_error) C.int { return C.keel_image_prune(h, &freed, cerr) })
	return uint64(freed), err
}

// Apply makes a container, not yet created, of an image (keel_image_apply):
// its layers, and Entrypoint + (cmd, or the image's Cmd), Env, WorkingDir
// and User for the init. Settings made afterwards win; NewContainer with
// WithImage applies the image before its other options. The store records
// that the container uses the image.
func (s *ImageStore) Apply(img *Image, c *Container, cmd ...string) error {
	return s.locked(img, func(h *C.keel_image_store, i *C.keel_image) error {
		return c.call(func(ch *C.keel_container, cerr **C.keel_error) C.int {
			return applyImage(h, i, ch, cmd, cerr)
		})
	})
}

// applyImage is keel_image_apply with cmd as a C argv (NULL when empty:
// the image's Cmd).
func applyImage(h *C.keel_image_store, i *C.keel_image, ch *C.keel_container, cmd []string, cerr **C.keel_error) C.int {
	var argv **C.char
	if len(cmd) > 0 {
		argv = cArgv(cmd)
		defer freeArgv(argv, len(cmd))
	}
	return C.keel_image_apply(h, i, ch, argv, cerr)
}

// Commit turns a container's writable layer into a new image on top of
// base (nil: a one-layer image) and returns its manifest digest
// (keel_image_commit). upperDir is the overlay upper dir
// (`<state_root>/<id>/layer/upper` by default: delete the container with
// DeleteKeepUpper, or commit before deleting it). cmd, when given, is the
// new Cmd; name, when not "", the new image's name.
func (s *ImageStore) Commit(upperDir string, base *Image, cmd []string, name string) (string, error) {
	u, n := cstr(upperDir), cstr(name)
	defer freeStr(u)
	defer freeStr(n)
	var argv **C.char
	if len(cmd) > 0 {
		argv = cArgv(cmd)
		defer freeArgv(argv, len(cmd))
	}
	var digest *C.char
	commit := func(h *C.keel_image_store, b *C.keel_image, cerr **C.keel_error) C.int {
		return C.keel_image_commit(h, b, u, argv, n, &digest, cerr)
	}
	var err error
	if base != nil {
		err = s.withImage(base, commit)
	} else {
		err = s.call(func(h *C.keel_image_store, cerr **C.keel_error) C.int { return commit(h, nil, cerr) })
	}
	if err != nil {
		return "", err
	}
	return takeString(digest), nil
}

// Save writes an image as an OCI layout directory, an oci-archive or a
// docker-archive, which `podman load` reads (keel_image_save). path must
// not exist.
func (s *ImageStore) Save(ref, path string, format ImageFormat) error {
	r, p := cstr(ref), cstr(path)
	defer freeStr(r)
	defer freeStr(p)
	return s.call(func(h *C.keel_image_store, cerr **C.keel_error) C.int {
		return C.keel_image_save(h, r, p, C.int(format), cerr)
	})
}

// Close frees the handle (the images stay on disk). Safe to call more than once.
func (s *ImageStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h == nil {
		return nil
	}
	C.keel_image_store_free(s.h)
	s.h = nil
	runtime.SetFinalizer(s, nil)
	return nil
}

// Image is an image of a store as it was when opened (keel_image): its
// digest, config and layers do not change; Names and Sizes are read from
// the store each time. Close it; containers made from it keep running.
type Image struct {
	mu    sync.Mutex
	h     *C.keel_image
	store *ImageStore
}

func (img *Image) lock() error {
	img.mu.Lock()
	if img.h == nil {
		img.mu.Unlock()
		return os.ErrClosed
	}
	return nil
}

// str reads one of the image's strings under its mutex ("" after Close).
func (img *Image) str(f func(h *C.keel_image) *C.char) string {
	if img.lock() != nil {
		return ""
	}
	defer img.mu.Unlock()
	return C.GoString(f(img.h))
}

// Digest is the manifest digest, "sha256:<hex>", which names the image in the store.
func (img *Image) Digest() string {
	return img.str(func(h *C.keel_image) *C.char { return C.keel_image_digest(h) })
}

// ID is the image's config digest (what `docker images` shows).
func (img *Image) ID() string {
	return img.str(func(h *C.keel_image) *C.char { return C.keel_image_id(h) })
}

// Platform is "os/arch" or "os/arch/variant".
func (img *Image) Platform() string {
	return img.str(func(h *C.keel_image) *C.char { return C.keel_image_platform(h) })
}

// ConfigJSON is the OCI image config as stored.
func (img *Image) ConfigJSON() string {
	return img.str(func(h *C.keel_image) *C.char { return C.keel_image_config(h) })
}

// ImageConfig is the OCI image config (image-spec config.md): what Config
// parses. Fields the spec has and this struct does not are in ConfigJSON.
type ImageConfig struct {
	Created      *time.Time `json:"created,omitempty"`
	Author       string     `json:"author,omitempty"`
	Architecture string     `json:"architecture"`
	OS           string     `json:"os"`
	Variant      string     `json:"variant,omitempty"`
	Config       struct {
		User         string              `json:"User,omitempty"`
		ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
		Env          []string            `json:"Env,omitempty"`
		Entrypoint   []string            `json:"Entrypoint,omitempty"`
		Cmd          []string            `json:"Cmd,omitempty"`
		Volumes      map[string]struct{} `json:"Volumes,omitempty"`
		WorkingDir   string              `json:"WorkingDir,omitempty"`
		Labels       map[string]string   `json:"Labels,omitempty"`
		StopSignal   string              `json:"StopSignal,omitempty"`
	} `json:"config"`
	RootFS struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
	History []struct {
		Created    *time.Time `json:"created,omitempty"`
		CreatedBy  string     `json:"created_by,omitempty"`
		Author     string     `json:"author,omitempty"`
		Comment    string     `json:"comment,omitempty"`
		EmptyLayer bool       `json:"empty_layer,omitempty"`
	} `json:"history,omitempty"`
}

// Config parses the image's config.
func (img *Image) Config() (*ImageConfig, error) {
	if img.lock() != nil {
		return nil, os.ErrClosed
	}
	raw := C.GoString(C.keel_image_config(img.h))
	img.mu.Unlock()
	cfg := &ImageConfig{}
	if err := json.Unmarshal([]byte(raw), cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Created is when the image was made (zero when the config does not say).
func (img *Image) Created() time.Time {
	if img.lock() != nil {
		return time.Time{}
	}
	defer img.mu.Unlock()
	return unixOrZero(int64(C.keel_image_created(img.h)))
}

// Layers are the unpacked layer directories, lowest first (overlayfs lower dirs).
func (img *Image) Layers() []string {
	if img.lock() != nil {
		return nil
	}
	defer img.mu.Unlock()
	n := C.keel_image_layer_count(img.h)
	out := make([]string, 0, int(n))
	for i := C.size_t(0); i < n; i++ {
		out = append(out, C.GoString(C.keel_image_layer_dir(img.h, i)))
	}
	return out
}

// Sizes returns the bytes of the layers no other image has (unique) and
// of all its layers (total, the virtual size), as the store has them now.
func (img *Image) Sizes() (unique, total uint64, err error) {
	var u, t C.uint64_t
	err = img.store.withImage(img, func(h *C.keel_image_store, i *C.keel_image, cerr **C.keel_error) C.int {
		return C.keel_image_sizes(h, i, &u, &t, cerr)
	})
	return uint64(u), uint64(t), err
}

// Names are the names that point at the image now, sorted (empty when untagged).
func (img *Image) Names() ([]string, error) {
	var l **C.char
	err := img.store.withImage(img, func(h *C.keel_image_store, i *C.keel_image, cerr **C.keel_error) C.int {
		return C.keel_image_names(h, i, &l, cerr)
	})
	if err != nil {
		return nil, err
	}
	defer C.keel_image_strv_free(l)
	names := goStrv(l)
	sort.Strings(names)
	return names, nil
}

func (img *Image) summary() (ImageSummary, error) {
	names, err := img.Names()
	if err != nil {
		return ImageSummary{}, err
	}
	unique, total, err := img.Sizes()
	if err != nil {
		return ImageSummary{}, err
	}
	return ImageSummary{Digest: img.Digest(), ID: img.ID(), Names: names, Platform: img.Platform(),
		Created: img.Created(), Layers: len(img.Layers()), Size: total, UniqueSize: unique}, nil
}

// Close frees the handle. Safe to call more than once.
func (img *Image) Close() error {
	img.mu.Lock()
	defer img.mu.Unlock()
	if img.h == nil {
		return nil
	}
	C.keel_image_free(img.h)
	img.h = nil
	runtime.SetFinalizer(img, nil)
	return nil
}
