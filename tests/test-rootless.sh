#!/bin/sh
# The example programs run by an unprivileged user (uid 65534, through
# setpriv), as `podman run` runs rootless: keel-run puts the container in
# a user namespace where the caller is root, keeps state in
# $XDG_RUNTIME_DIR/keel, and makes no cgroup unless one is delegated to
# the user; keel-ps, keel-exec, keel-logs, keel-kill and keel-rm work on
# a detached one. Then the refusals (what needs root says so), the
# cgroup under a delegated cgroup2 directory, and --userns / --no-userns
# as root. After each container: no state, no process, no mount, no
# cgroup left.
set -u
b=${KEEL_TOP_BUILDDIR:?run with make check}
rootfs=${KEEL_TEST_ROOTFS:?run with make check}
run=$b/examples/keel-run exec=$b/examples/keel-exec ps=$b/examples/keel-ps
kill=$b/examples/keel-kill rm=$b/examples/keel-rm logs=$b/examples/keel-logs
update=$b/examples/keel-update
U=65534
n=0
name() { n=$((n + 1)); echo "krl$$-$n"; }
tap_name=test-rootless.sh
. "${KEEL_TOP_SRCDIR:?run with make check}/tests/tap.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: test-rootless.sh: needs root (to become uid $U with setpriv)"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: test-rootless.sh: setpriv (util-linux) is not installed"; exit 77; }
command -v unshare >/dev/null || { echo "SKIP: test-rootless.sh: unshare (util-linux) is not installed"; exit 77; }

tmp=$(mktemp -d /tmp/keel-rootless-XXXXXX)
chmod 755 "$tmp"
xdg=$tmp/xdg
mkdir -m 700 "$xdg" && chown $U:$U "$xdg"
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
deleg=${cg2:+$cg2/keel-rootless-$$}
# as USER: uid/gid 65534, no groups, $XDG_RUNTIME_DIR our scratch dir
as_user() { setpriv --reuid $U --regid $U --clear-groups env -u KEEL_STATE_ROOT XDG_RUNTIME_DIR="$xdg" "$@"; }

cleanup() {
	for id in $(ls "$xdg/keel" 2>/dev/null); do as_user "$rm" -f "$id" >/dev/null 2>&1; done
	for id in $(ls "$tmp/rootstate" 2>/dev/null); do KEEL_STATE_ROOT=$tmp/rootstate "$rm" -f "$id" >/dev/null 2>&1; done
	if [ -n "$deleg" ] && [ -d "$deleg" ]; then
		rmdir "$deleg/keel" "$deleg/sess" "$deleg" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# --- host probes, outside the programs under test
if ! setpriv --reuid $U --regid $U --clear-groups unshare -U -r true 2>"$tmp/err"; then
	echo "SKIP: test-rootless.sh: uid $U cannot make a user namespace: $(cat "$tmp/err")" \
		"(kernel.unprivileged_userns_clone=$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo -)," \
		"user.max_user_namespaces=$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo -))"
	exit 77
fi
if ! as_user test -r "$rootfs/bin/sh" -a -x "$rootfs/bin"; then
	echo "SKIP: test-rootless.sh: the rootfs $rootfs is not readable by uid $U"; exit 77
fi
# Does the user have subordinate ids keel-run would map? (not on a plain host)
subuid=
if grep -qE "^(nobody|$U):" /etc/subuid 2>/dev/null && command -v newuidmap >/dev/null; then subuid=yes; fi

# gone ID: no state, no process, no mount, no cgroup of the container left
gone() {
	if [ -e "$xdg/keel/$1" ]; then not_ok "state of $1 left behind"; else ok "no state left for $1"; fi
	if pgrep -u $U -f "$1" >/dev/null; then not_ok "processes of $1 left: $(pgrep -a -u $U -f "$1")"
	else ok "no process left for $1"; fi
	if grep -qF "$tmp" /proc/self/mountinfo; then not_ok "mounts under $tmp left"; else ok "no mount left for $1"; fi
	if [ -n "$deleg" ] && [ -e "$deleg/keel/$1" ]; then not_ok "cgroup of $1 left"; else ok "no cgroup left for $1"; fi
}
# maps FILE: the id map lines of FILE with their spaces squeezed
maps() { tr -s ' ' <"$tmp/$1" | sed 's/^ //'; }

# --- the caller is root in the container, through its user namespace
id=$(name)
expect 0 "keel-run as uid $U" -- as_user "$run" --rm --name "$id" --rootfs "$rootfs" -- \
	sh -c 'id -u; cat /proc/self/uid_map /proc/self/gid_map'
if [ "$(head -n 1 "$tmp/out")" = 0 ]; then ok "id -u is 0 inside"; else not_ok "id -u inside: $(head -n 1 "$tmp/out")"; fi
if maps out | grep -qx "0 $U 1"; then ok "uid_map maps 0 to $U"; else not_ok "no '0 $U 1' map: $(cat "$tmp/out")"; fi
if [ -z "$subuid" ]; then
	has err "no /etc/subuid range for user nobody: only uid $U is mapped"
	if [ "$(maps out | grep -c .)" = 3 ]; then ok "only the caller is mapped (one uid, one gid line)"
	else not_ok "maps: $(cat "$tmp/out")"; fi
else
	if maps out | grep -q "^1 "; then ok "the /etc/subuid range follows"; else not_ok "no subuid map: $(cat "$tmp/out")"; fi
fi
if [ -n "$deleg" ]; then has err "no cgroup delegated to uid $U"; has err "limits are not available"; fi
gone "$id"

# --- an /etc/subuid and /etc/subgid range is mapped after the caller,
# through newuidmap/newgidmap: files of ours bound over both in a private
# mount namespace (the host's /etc is not touched), which the setuid
# helpers then read.
newuidmap=$(command -v newuidmap) newgidmap=$(command -v newgidmap)
if [ -z "$newuidmap" ] || [ -z "$newgidmap" ]; then skip "subuid range" "newuidmap/newgidmap (uidmap) are not installed"
elif [ ! -u "$newuidmap" ] && ! getcap "$newuidmap" 2>/dev/null | grep -q cap_setuid; then
	skip "subuid range" "$newuidmap is neither setuid nor has file capabilities"
else
	echo "nobody:300000:65536" >"$tmp/subid"
	chmod 644 "$tmp/subid"
	id=$(name)
	expect 0 "keel-run with an /etc/subuid range" -- unshare -m sh -c \
		'mount --bind "$0" /etc/subuid && mount --bind "$0" /etc/subgid && exec "$@"' "$tmp/subid" \
		setpriv --reuid $U --regid $U --clear-groups env -u KEEL_STATE_ROOT XDG_RUNTIME_DIR="$xdg" \
		"$run" --rm --name "$id" --rootfs "$rootfs" -- sh -c 'cat /proc/self/uid_map /proc/self/gid_map'
	if [ "$(maps out | grep -cx "1 300000 65536")" = 2 ]; then ok "the range follows in uid_map and gid_map"
	else not_ok "maps: $(cat "$tmp/out")"; fi
	if [ "$(maps out | grep -cx "0 $U 1")" = 2 ]; then ok "the caller is 0"; else not_ok "maps: $(cat "$tmp/out")"; fi
	if grep -q "no /etc/sub" "$tmp/err"; then not_ok "a note about a missing range"; else ok "no note about ranges"; fi
	gone "$id"
fi

# --- detached: keel-ps, keel-exec, keel-logs, keel-kill, keel-rm
id=$(name)
expect 0 "keel-run -d as uid $U" -- as_user "$run" -d --name "$id" --rootfs "$rootfs" -- \
	sh -c 'echo hello from rootless; exec sleep 1000'
has out "$id"
if [ -d "$xdg/keel/$id" ] && [ "$(stat -c %u "$xdg/keel/$id")" = $U ]; then ok "state in \$XDG_RUNTIME_DIR/keel, the user's"
else not_ok "no state of $id in $xdg/keel"; fi
expect 0 "keel-ps as uid $U" -- as_user "$ps"
has out "$id"
has out "running"
pid=$(awk -v id="$id" '$1 == id { print $3 }' "$tmp/out")
if [ -n "$pid" ] && [ "$(stat -c %u "/proc/$pid")" = $U ]; then ok "the init runs as uid $U on the host"
else not_ok "init $pid is not uid $U's"; fi
# without a delegated cgroup, the init stays in keel-run's (our) cgroup
if [ -n "$pid" ] && [ "$(grep '^0::' "/proc/$pid/cgroup")" = "$(grep '^0::' /proc/self/cgroup)" ]; then
	ok "no cgroup of its own"; else not_ok "init's cgroup: $(cat "/proc/$pid/cgroup" 2>&1)"; fi
expect 0 "keel-exec as uid $U" -- as_user "$exec" "$id" -- sh -c 'id -u; cat /proc/self/uid_map; echo pid1 $(cat /proc/1/comm)'
if [ "$(head -n 1 "$tmp/out")" = 0 ]; then ok "exec: id -u is 0"; else not_ok "exec: id -u $(head -n 1 "$tmp/out")"; fi
if maps out | grep -qx "0 $U 1"; then ok "exec: in the container's user namespace"; else not_ok "exec maps: $(cat "$tmp/out")"; fi
has out "pid1 sleep"
expect 0 "keel-logs as uid $U" -- as_user "$logs" "$id"
has out "hello from rootless"
expect 0 "keel-kill as uid $U" -- as_user "$kill" "$id"
i=0
while [ $i -lt 50 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
expect 0 "keel-ps after the kill" -- as_user "$ps"
has out "stopped(137)"
expect 0 "keel-rm as uid $U" -- as_user "$rm" "$id"
gone "$id"

# keel-kill -a (no cgroup: the init, pid 1, takes the rest) and keel-rm -f
id=$(name)
expect 0 "keel-run -d, two processes" -- as_user "$run" -d --name "$id" --rootfs "$rootfs" -- \
	sh -c 'sleep 1000 & exec sleep 1001'
expect 0 "keel-kill -a" -- as_user "$kill" -a "$id"
i=0
while [ $i -lt 50 ] && pgrep -u $U -f "sleep 100[01]" >/dev/null; do sleep 0.1; i=$((i + 1)); done
if pgrep -u $U -f "sleep 100[01]" >/dev/null; then not_ok "processes left after kill -a"; else ok "kill -a ended both"; fi
expect 0 "keel-rm" -- as_user "$rm" "$id"
gone "$id"
id=$(name)
expect 0 "keel-run -d" -- as_user "$run" -d --name "$id" --rootfs "$rootfs" -- sleep 1000
expect 0 "keel-rm -f of a running one" -- as_user "$rm" -f "$id"
gone "$id"

# --- what needs root says so, and leaves nothing
for opt in "--net kxrl$$:10.97.0.2/24" "-p 8080:80" "--masquerade" "--device /dev/null" \
	"--device-cgroup-rule a" "--no-userns"; do
	id=$(name)
	# shellcheck disable=SC2086 # the option and its value are two words
	expect 125 "keel-run ${opt%% *} as uid $U" -- as_user "$run" --rm --name "$id" --rootfs "$rootfs" \
		$opt -- true
	has err "${opt%% *} needs root"
	gone "$id"
done
id=$(name)
if [ -n "$deleg" ]; then
	expect 125 "--memory without a delegated cgroup" -- as_user "$run" --rm --name "$id" --rootfs "$rootfs" \
		--memory 64m -- true
	has err "need a cgroup delegated to uid $U"
	gone "$id"
fi
expect 125 "keel-run without \$XDG_RUNTIME_DIR" -- \
	setpriv --reuid $U --regid $U --clear-groups env -u XDG_RUNTIME_DIR -u KEEL_STATE_ROOT \
	"$run" --rm --name "$id" --rootfs "$rootfs" -- true
has err "XDG_RUNTIME_DIR is not set"
has err "KEEL_STATE_ROOT"
expect 1 "keel-ps without \$XDG_RUNTIME_DIR" -- \
	setpriv --reuid $U --regid $U --clear-groups env -u XDG_RUNTIME_DIR -u KEEL_STATE_ROOT "$ps"
has err "set XDG_RUNTIME_DIR"
expect 1 "keel-update without \$XDG_RUNTIME_DIR" -- \
	setpriv --reuid $U --regid $U --clear-groups env -u XDG_RUNTIME_DIR -u KEEL_STATE_ROOT "$update" \
	--pids 10 "$id"
has err "set XDG_RUNTIME_DIR"

# --- every tool's --help says where rootless state goes
for tool in "$run" "$exec" "$ps" "$kill" "$rm" "$logs" "$update"; do
	expect 0 "$(basename "$tool") --help" -- "$tool" --help
	has out "XDG_RUNTIME_DIR/keel"
done

# --- a cgroup2 directory delegated to the user: the container's cgroup
# goes in it, keel/<id> beside the user's own (a child shell of ours is
# moved into its "sess", never this shell).
if [ -z "$cg2" ]; then skip "delegated cgroup" "no cgroup2 mount"
elif ! mkdir "$deleg" 2>"$tmp/err" || ! mkdir "$deleg/sess" 2>>"$tmp/err"; then
	skip "delegated cgroup" "cannot make $deleg: $(cat "$tmp/err")"
else
	for f in "$deleg" "$deleg/sess"; do
		chown $U:$U "$f" "$f/cgroup.procs" "$f/cgroup.subtree_control" "$f/cgroup.threads"
	done
	in_sess() { sh -c 'echo $$ >"$0/sess/cgroup.procs" && exec "$@"' "$deleg" "$@"; }
	id=$(name)
	expect 0 "keel-run -d in a delegated cgroup" -- in_sess \
		setpriv --reuid $U --regid $U --clear-groups env -u KEEL_STATE_ROOT XDG_RUNTIME_DIR="$xdg" \
		"$run" -d --name "$id" --rootfs "$rootfs" -- sleep 1000
	if grep -q "no cgroup delegated" "$tmp/err"; then not_ok "the delegated cgroup was not found"; else ok "no note"; fi
	pid=$(cat "$deleg/keel/$id/cgroup.procs" 2>/dev/null)
	if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm")" = sleep ]; then ok "the init is in $deleg/keel/$id"
	else not_ok "no init in $deleg/keel/$id"; fi
	expect 0 "keel-exec into the delegated cgroup" -- in_sess \
		setpriv --reuid $U --regid $U --clear-groups env -u KEEL_STATE_ROOT XDG_RUNTIME_DIR="$xdg" \
		"$exec" "$id" -- id -u
	has out 0
	# from outside the delegated subtree the kernel refuses the move: said so
	expect 125 "keel-exec from a cgroup that is not delegated" -- as_user "$exec" "$id" -- true
	has err "clone into cgroup (moving a process needs write access to cgroup.procs"
	expect 0 "keel-rm -f" -- as_user "$rm" -f "$id"
	gone "$id"
fi

# --- root: --userns asks for one (the caller, root, is root inside it)
export KEEL_STATE_ROOT=$tmp/rootstate
id=$(name)
expect 0 "keel-run --userns as root" -- "$run" --userns --rm --name "$id" --rootfs "$rootfs" -- cat /proc/self/uid_map
if maps out | grep -qx "0 0 1" || maps out | grep -q "^1 "; then ok "root's container has a user namespace"
else not_ok "root --userns map: $(cat "$tmp/out")"; fi
expect 0 "keel-run --no-userns as root" -- "$run" --no-userns --rm --name "$id" --rootfs "$rootfs" -- cat /proc/self/uid_map
if maps out | grep -qx "0 0 4294967295"; then ok "--no-userns: the host's ids"; else not_ok "map: $(cat "$tmp/out")"; fi
if [ -e "$KEEL_STATE_ROOT/$id" ]; then not_ok "state of $id left"; else ok "no state left for $id"; fi

echo "test-rootless.sh: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
