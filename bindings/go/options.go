package keel

import (
	"fmt"
	"os"
	"syscall"
)

// Namespace is a set of namespace types (enum keel_ns_type), combined with |.
type Namespace uint

// The namespace types. Values are those of the C library and never change.
const (
	NSMount  Namespace = 1 << 0
	NSPID    Namespace = 1 << 1
	NSNet    Namespace = 1 << 2
	NSIPC    Namespace = 1 << 3
	NSUTS    Namespace = 1 << 4
	NSUser   Namespace = 1 << 5
	NSCgroup Namespace = 1 << 6
	NSTime   Namespace = 1 << 7

	// NSDefault is what a container gets unless WithNamespaces says otherwise.
	NSDefault = NSMount | NSPID | NSUTS | NSIPC | NSNet | NSCgroup
)

// Option configures a container (NewContainer) or, for the options that
// describe a process, an exec (Container.Exec). Each maps to one libkeel call.
type Option func(*settings) error

type envVar struct {
	name, value string
	unset       bool
}

// settings collects the options in Go; they are applied to the C handles
// in one place, so a bad option leaves nothing half-made.
type settings struct {
	// the process (init or exec)
	args     []string
	env      []envVar
	clearEnv bool
	cwd      string
	user     *[2]uint32
	tty      bool
	stdio    *[3]*os.File

	// the container only
	containerOnly []string
	stateRoot     string
	rootfs        string
	layers        []string
	noDefaults    bool
	readonly      bool
	hostname      string
	namespaces    *Namespace
	cgroupParent  string
	memoryMax     *uint64
	pidsMax       *uint64
	cpuMax        *[2]uint64
	network       *[3]string
	networkHost   string
	upperDir      string
	keepUpper     bool
	stopSignal    *syscall.Signal
	image         *imageSpec
}

// imageSpec is what WithImage or WithImageRef asked for.
type imageSpec struct {
	store *ImageStore
	img   *Image // or ref
	ref   string
	cmd   []string
}

func containerOption(name string, f func(*settings)) Option {
	return func(s *settings) error {
		s.containerOnly = append(s.containerOnly, name)
		f(s)
		return nil
	}
}

// WithArgs sets the program and its arguments (keel_process_set_args).
func WithArgs(args ...string) Option {
	return func(s *settings) error { s.args = append([]string(nil), args...); return nil }
}

// WithEnv sets an environment variable (keel_process_setenv).
func WithEnv(name, value string) Option {
	return func(s *settings) error { s.env = append(s.env, envVar{name: name, value: value}); return nil }
}

// WithoutEnv removes an environment variable (keel_process_unsetenv).
func WithoutEnv(name string) Option {
	return func(s *settings) error { s.env = append(s.env, envVar{name: name, unset: true}); return nil }
}

// WithClearEnv starts from an empty environment (keel_process_clearenv).
func WithClearEnv() Option {
	return func(s *settings) error { s.clearEnv = true; return nil }
}

// WithCwd sets the working directory inside the container (keel_process_set_cwd).
func WithCwd(dir string) Option {
	return func(s *settings) error { s.cwd = dir; return nil }
}

// WithUser runs the process as uid and gid (keel_process_set_user).
func WithUser(uid, gid uint32) Option {
	return func(s *settings) error { s.user = &[2]uint32{uid, gid}; return nil }
}

// WithTTY gives the process a new pseudo-terminal (keel_process_set_tty).
func WithTTY() Option {
	return func(s *settings) error { s.tty = true; return nil }
}

// WithStdio gives the process these files as stdin, stdout and stderr
// (keel_process_set_stdio); nil means /dev/null, as in os/exec. Without
// this option the process inherits the caller's 0, 1 and 2. The files must
// stay open until Create, Run or Exec returns; the process has its own
// copies after that.
func WithStdio(stdin, stdout, stderr *os.File) Option {
	return func(s *settings) error { s.stdio = &[3]*os.File{stdin, stdout, stderr}; return nil }
}

// WithStateRoot sets the directory that holds container state (default /run/keel).
func WithStateRoot(dir string) Option {
	return containerOption("WithStateRoot", func(s *settings) { s.stateRoot = dir })
}

// WithRootfs uses a directory as the root as it is (keel_rootfs_set_directory).
func WithRootfs(dir string) Option {
	return containerOption("WithRootfs", func(s *settings) { s.rootfs = dir })
}

// WithLayers adds image layers, lowest first, under a writable layer of
// the container's own (keel_container_add_layer).
func WithLayers(dirs ...string) Option {
	return containerOption("WithLayers", func(s *settings) { s.layers = append(s.layers, dirs...) })
}

// WithoutDefaultMounts skips /proc, /sys, /dev ... (keel_rootfs_add_defaults
// is called unless this option is given).
func WithoutDefaultMounts() Option {
	return containerOption("WithoutDefaultMounts", func(s *settings) { s.noDefaults = true })
}

// WithReadonlyRoot makes the root read-only (keel_rootfs_set_readonly).
func WithReadonlyRoot() Option {
	return containerOption("WithReadonlyRoot", func(s *settings) { s.readonly = true })
}

// WithHostname sets the container's hostname (keel_container_set_hostname).
func WithHostname(name string) Option {
	return containerOption("WithHostname", func(s *settings) { s.hostname = name })
}

// WithNamespaces chooses the namespaces (keel_container_set_namespaces).
func WithNamespaces(ns Namespace) Option {
	return containerOption("WithNamespaces", func(s *settings) { s.namespaces = &ns })
}

// WithCgroupParent sets the cgroup the container's cgroup is made under.
func WithCgroupParent(path string) Option {
	return containerOption("WithCgroupParent", func(s *settings) { s.cgroupParent = path })
}

// WithMemoryMax sets memory.max, applied at create (keel_container_set_memory_max).
func WithMemoryMax(bytes uint64) Option {
	return containerOption("WithMemoryMax", func(s *settings) { s.memoryMax = &bytes })
}

// WithPidsMax sets pids.max, applied at create (keel_container_set_pids_max).
func WithPidsMax(n uint64) Option {
	return containerOption("WithPidsMax", func(s *settings) { s.pidsMax = &n })
}

// WithCPUMax sets cpu.max, applied at create (keel_container_set_cpu_max).
func WithCPUMax(quotaUsec, periodUsec uint64) Option {
	return containerOption("WithCPUMax", func(s *settings) { s.cpuMax = &[2]uint64{quotaUsec, periodUsec} })
}

// WithNetwork gives the container an eth0 on a bridge, with an address
// ("10.88.0.2/16") and, unless gateway is "", a default route
// (keel_container_set_network).
func WithNetwork(bridge, addrCIDR, gateway string) Option {
	return containerOption("WithNetwork", func(s *settings) { s.network = &[3]string{bridge, addrCIDR, gateway} })
}

// WithNetworkHost sets the network namespace (a path) the bridge lives in
// (keel_container_set_network_host).
func WithNetworkHost(netnsPath string) Option {
	return containerOption("WithNetworkHost", func(s *settings) { s.networkHost = netnsPath })
}

// WithUpperDir sets where the writable layer goes (keel_container_set_upper_dir).
func WithUpperDir(dir string) Option {
	return containerOption("WithUpperDir", func(s *settings) { s.upperDir = dir })
}

// WithKeepUpper keeps the writable layer when the container is deleted.
func WithKeepUpper() Option {
	return containerOption("WithKeepUpper", func(s *settings) { s.keepUpper = true })
}

// WithStopSignal sets the signal that stops the container
// (keel_container_set_stop_signal), a number from 1 to 64; SIGTERM
// unless set. Create records it, so a LoadContainer handle in any process
// reads the same StopSignal. It is applied after WithImage, so it wins
// over the image's StopSignal. The library never sends it itself: stop
// with c.Kill(c.StopSignal()).
func WithStopSignal(sig syscall.Signal) Option {
	return containerOption("WithStopSignal", func(s *settings) { s.stopSignal = &sig })
}

// WithImage makes the container of an image of store (keel_image_apply),
// as `docker run IMAGE [CMD...]` does: its layers become the container's,
// its Entrypoint + Cmd, Env, WorkingDir and User the init's, its
// StopSignal the container's; cmd, when
// given, replaces the Cmd (the Entrypoint stays). It is applied before
// every other option, so WithArgs (the whole command), WithEnv,
// WithoutEnv, WithClearEnv, WithCwd, WithUser and WithStopSignal
// override the image.
// It excludes WithRootfs and WithLayers: the image is the root. The store
// refuses to remove the image while the container exists.
func WithImage(store *ImageStore, img *Image, cmd ...string) Option {
	return containerOption("WithImage", func(s *settings) {
		s.image = &imageSpec{store: store, img: img, cmd: append([]string(nil), cmd...)}
	})
}

// WithImageRef is WithImage for an image named by ref (`name[:tag]` or
// digest), opened and closed by NewContainer.
func WithImageRef(store *ImageStore, ref string, cmd ...string) Option {
	return containerOption("WithImageRef", func(s *settings) {
		s.image = &imageSpec{store: store, ref: ref, cmd: append([]string(nil), cmd...)}
	})
}

func collect(opts []Option) (*settings, error) {
	s := &settings{}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *settings) onlyProcess(what string) error {
	if len(s.containerOnly) > 0 {
		return fmt.Errorf("keel: %s: option %s applies to a container, not to a process",
			what, s.containerOnly[0])
	}
	return nil
}
