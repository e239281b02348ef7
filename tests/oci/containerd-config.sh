# containerd_config DIR: write DIR/config.toml for a containerd 1.6 of our
# own: root, state and every socket under DIR, the CRI plugin off, so that
# the host's containerd (if any) is never touched. Sourced by
# tests/oci/clients.sh and tests/bench/oci-clients-bench.sh.
containerd_config() {
	cat > "$1/config.toml" <<CONF
version = 2
root = "$1/root"
state = "$1/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$1/containerd.sock"
[ttrpc]
  address = "$1/containerd.sock.ttrpc"
[debug]
  address = "$1/debug.sock"
[metrics]
  address = ""
CONF
}
