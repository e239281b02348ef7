#!/bin/sh
# The example programs end to end, as a user runs them: keel-run's exit
# codes and messages (those of docker run), --rm, -d, then keel-exec,
# keel-ps, keel-kill and keel-rm on the detached container, --stop-signal
# and what keel-kill sends without a signal, a writable
# layer that keeps writes away from the image, and --net on a bridge made
# inside a network namespace of our own (unshare -n), never the host's.
# After every container: no state, no cgroup, no veth left.
set -u
b=${KEEL_TOP_BUILDDIR:?run with make check}
rootfs=${KEEL_TEST_ROOTFS:?run with make check}
run=$b/examples/keel-run exec=$b/examples/keel-exec ps=$b/examples/keel-ps
kill=$b/examples/keel-kill rm=$b/examples/keel-rm
tmp=$(mktemp -d /tmp/keel-examples-XXXXXX)
export KEEL_STATE_ROOT=$tmp/state
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
n=0
name() { n=$((n + 1)); echo "kx$$-$n"; }

# keel-run makes its containers' cgroups under the library's default parent
# "keel"; if this run is what created that directory, remove it at the end
# (rmdir only succeeds once it is empty, so a user's containers are safe).
. "${KEEL_TOP_SRCDIR:?run with make check}/tests/cgroup-parents.sh"
cg_parents_note keel

cleanup() {
	for id in $(ls "$KEEL_STATE_ROOT" 2>/dev/null); do "$rm" -f "$id" >/dev/null 2>&1; done
	rm -rf "$tmp"
	cg_parents_drop
}
trap cleanup EXIT

tap_name=test-examples.sh
. "${KEEL_TOP_SRCDIR:?run with make check}/tests/tap.sh"

# --- host probes, outside the programs under test
# overlayfs: every container here has the rootfs as an image layer. A real
# mount in a private mount namespace (it loads the module if need be).
mkdir -p "$tmp/ov/l" "$tmp/ov/u" "$tmp/ov/w" "$tmp/ov/m"
if ! command -v unshare >/dev/null; then
	echo "SKIP: test-examples.sh: unshare (util-linux) is not installed"; exit 77
fi
if ! unshare -m sh -c "mount -t overlay overlay -o lowerdir=$tmp/ov/l,upperdir=$tmp/ov/u,workdir=$tmp/ov/w $tmp/ov/m" 2>"$tmp/err"; then
	echo "SKIP: test-examples.sh: overlayfs cannot be mounted here: $(cat "$tmp/err")"; exit 77
fi
rm -rf "$tmp/ov"
# script(1) makes the terminal for the -t checks
no_script=
command -v script >/dev/null || no_script="script (bsdutils) is not installed"
# --net needs ip (iproute2) and the veth and bridge link kinds
no_net=
if ! command -v ip >/dev/null; then no_net="ip (iproute2) is not installed"
elif ! unshare -n sh -c 'ip link add kxprobe type veth && ip link add kxprobebr type bridge' 2>"$tmp/err"; then
	no_net="cannot create veth and bridge links in a new network namespace: $(cat "$tmp/err")"
fi

# wait_stopped ID: until keel-ps shows it stopped, up to 10 s
wait_stopped() {
	i=0
	until "$ps" | grep "^$1 " | grep -q stopped || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
}
# gone ID: nothing of the container is left
gone() {
	if [ -e "$KEEL_STATE_ROOT/$1" ]; then not_ok "state of $1 left behind"; else ok "no state left for $1"; fi
	if [ -e "$cg2/keel/$1" ]; then not_ok "cgroup keel/$1 left behind"; else ok "no cgroup left for $1"; fi
}

# --- what a container is: pid 1, its own hostname, lo only
id=$(name)
expect 0 "keel-run shows its own pid 1, hostname and network" -- \
	"$run" --rm --name "$id" --hostname box -- sh -c 'echo pid $$; hostname; ls /sys/class/net'
has out "pid 1"
has out "box"
if [ "$(sed -n 3,\$p "$tmp/out")" = lo ]; then ok "only lo"; else not_ok "links: $(cat "$tmp/out")"; fi
gone "$id"

# --- exit codes, as docker run
id=$(name)
expect 3 "the command's own exit status" -- "$run" --rm --name "$id" -- sh -c 'exit 3'
gone "$id"
id=$(name)
expect 127 "a missing command is 127" -- "$run" --rm --name "$id" -- /bin/nosuch
has err "exec /bin/nosuch: No such file or directory"
gone "$id"
id=$(name)
expect 126 "a command that cannot be run is 126" -- "$run" --rm --name "$id" -- /etc/image-release
has err "exec /etc/image-release: Permission denied"
gone "$id"
# An arm64 program (its ELF header is what the kernel checks) on this host.
mkdir -p "$tmp/armlayer"
printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\002\000\267\000\001\000\000\000' >"$tmp/armlayer/hello-arm64"
head -c 40 /dev/zero >>"$tmp/armlayer/hello-arm64"
chmod 755 "$tmp/armlayer/hello-arm64"
id=$(name)
if [ "$(uname -m)" != aarch64 ]; then
	expect 126 "a program for another CPU is 126" -- \
		"$run" --rm --name "$id" --layer "$rootfs" --layer "$tmp/armlayer" -- /hello-arm64
	has err "exec /hello-arm64: Exec format error"
	has err "another CPU architecture"
	gone "$id"
fi
id=$(name)
expect 125 "a missing rootfs is 125" -- "$run" --name "$id" --rootfs /nonexistent/rootfs -- true
has err "/nonexistent/rootfs: No such file or directory"
gone "$id"
id=$(name)
expect 125 "a bad layer is 125" -- "$run" --name "$id" --layer /nonexistent/layer -- true
has err "/nonexistent/layer"
gone "$id"
id=$(name)
expect 125 "a bad option is 125" -- "$run" --name "$id" --memory lots -- true
has err "--memory lots"
# Numbers that do not fit are errors, never wrapped: uid 4294967296 is not
# root, an empty GID is not 0, 17179869184g is not "no limit".
for bad in 4294967296 4294967295 65534: 65534:4294967296 -1 1x :0; do
	id=$(name)
	expect 125 "--user $bad is refused" -- "$run" --rm --name "$id" --user "$bad" -- id
	has err "--user $bad"
	gone "$id"
done
for bad in 17179869184g 18446744073709551616 0 16384P 1.5g; do
	id=$(name)
	expect 125 "--memory $bad is refused" -- "$run" --rm --name "$id" --memory "$bad" -- true
	has err "--memory $bad"
	gone "$id"
done
id=$(name)
expect 125 "an empty --rootfs= is refused" -- "$run" --rm --name "$id" --rootfs= -- true
has err "--rootfs"
gone "$id"
id=$(name)
if grep -qw memory "$cg2/cgroup.controllers"; then
	expect 0 "--memory where the controller exists" -- "$run" --rm --name "$id" --memory 64m -- true
else
	expect 125 "--memory on a host without the memory controller is 125" -- \
		"$run" --rm --name "$id" --memory 64m -- true
	has err "controller memory is not available"
fi
gone "$id"

# --- the writable layer: a write to /etc does not reach the image
id=$(name)
expect 0 "write to /etc in a layered container" -- "$run" --rm --name "$id" --layer "$rootfs" -- \
	sh -c 'echo changed > /etc/image-release; cat /etc/image-release'
has out "changed"
if [ "$(cat "$rootfs/etc/image-release")" = "from the image" ]; then ok "the layer is unchanged"; else
	not_ok "the layer changed: $(cat "$rootfs/etc/image-release")"; fi
gone "$id"

# --- options that shape the process
id=$(name)
mkdir -p "$tmp/vol" && echo shared >"$tmp/vol/f"
expect 0 "-v, -e, --user, --read-only" -- "$run" --rm --name "$id" --read-only -v "$tmp/vol:/data:ro" \
	-e GREETING=hello --user 1000:1000 -- sh -c 'cat /data/f; echo $GREETING; id -u; touch /x || echo ro'
has out "shared"
has out "hello"
has out "1000"
has out "ro"
gone "$id"
id=$(name)
expect 0 "the default seccomp profile is on, as in docker run" -- "$run" --rm --name "$id" -- \
	sh -c 'grep Seccomp: /proc/self/status'
has out "Seccomp:	2"
id=$(name)
expect 0 "--seccomp none turns it off" -- "$run" --rm --name "$id" --seccomp none -- \
	sh -c 'grep Seccomp: /proc/self/status'
has out "Seccomp:	0"
gone "$id"
id=$(name)
if [ -n "$no_script" ]; then skip "keel-run -t" "$no_script"; else
	expect 0 "-t gives a terminal of the container's own devpts" -- \
		script -qec "$run --rm --name $id -t -- sh -c 'test -t 0 && test -c \$(tty) && echo terminal \$(tty)'" /dev/null
	has out "terminal /dev/pts/0"
	gone "$id"
fi

# --- -d, then the other programs on it
id=$(name)
expect 0 "keel-run -d prints the id" -- "$run" -d --name "$id" --layer "$rootfs" --hostname web -- sleep 1000
if [ "$(cat "$tmp/out")" = "$id" ]; then ok "printed $id"; else not_ok "printed '$(cat "$tmp/out")'"; fi
expect 0 "keel-ps" -- "$ps"
has out "$id"
has out "running"
has out "$rootfs"
expect 0 "keel-exec runs inside it" -- "$exec" "$id" -- sh -c 'hostname; echo $$; cat /etc/image-release'
has out "web"
has out "from the image"
expect 5 "keel-exec passes the exit status on" -- "$exec" "$id" -- sh -c 'exit 5'
for bad in 4294967296 65534: 65534:4294967296; do
	expect 125 "keel-exec -u $bad is refused" -- "$exec" -u "$bad" "$id" -- id
	has err "-u $bad"
done
expect 0 "keel-exec -u 65534:65533" -- "$exec" -u 65534:65533 "$id" -- sh -c 'echo $(id -u):$(id -g)'
has out "65534:65533"
expect 127 "keel-exec of a missing command is 127" -- "$exec" "$id" -- nosuch
has err "No such file or directory"
if [ -n "$no_script" ]; then skip "keel-exec -t" "$no_script"; else
	expect 0 "keel-exec -t gives a terminal of the container's own devpts" -- \
		script -qec "$exec -t $id -- sh -c 'test -t 0 && test -c \$(tty) && echo terminal \$(tty)'" /dev/null
	has out "terminal /dev/pts/0"
fi
expect 1 "keel-rm refuses a running container" -- "$rm" "$id"
has err "container is running"
expect 0 "keel-kill" -- "$kill" "$id" KILL
wait_stopped "$id"
expect 0 "keel-ps after the kill" -- "$ps"
has out "stopped(137)"
expect 1 "keel-kill of a stopped container" -- "$kill" "$id"
has err "container is stopped"
expect 0 "keel-rm" -- "$rm" "$id"
gone "$id"
expect 1 "keel-rm of an unknown id" -- "$rm" "$id"
has err "not found"

id=$(name)
expect 0 "keel-run -d for keel-rm -f" -- "$run" -d --name "$id" -- sleep 1000
expect 0 "keel-rm -f of a running container" -- "$rm" -f "$id"
gone "$id"

# --- --stop-signal: keel-kill --stop (docker stop) sends it to the init, a
# shell whose trap writes what it got into a host directory and exits 0;
# a name, a real-time one or a number. (keel-kill without a signal sends
# KILL: the sleeps above and below, pid 1 of their namespace, ignore TERM.)
# wait_for FILE: up to 10 s
wait_for() { i=0; until [ -s "$1" ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done; }
for spec in SIGUSR1:USR1:10 rtmin+3:37:37 12:USR2:12; do
	given=${spec%%:*} rest=${spec#*:}
	trapped=${rest%%:*} num=${rest#*:}
	id=$(name)
	mkdir -p "$tmp/sig-$num"
	expect 0 "keel-run -d --stop-signal $given" -- "$run" -d --name "$id" --layer "$rootfs" \
		--stop-signal "$given" -v "$tmp/sig-$num:/sig" -- \
		sh -c "trap 'echo got $trapped > /sig/got; exit 0' $trapped; echo ready > /sig/ready; while :; do sleep 0.1; done"
	if grep -qx "stop_signal=$num" "$KEEL_STATE_ROOT/$id/state"; then ok "the state records stop_signal=$num"
	else not_ok "no stop_signal=$num in the state"; sed 's/^/  state: /' "$KEEL_STATE_ROOT/$id/state"; fi
	wait_for "$tmp/sig-$num/ready"
	expect 0 "keel-kill --stop $id" -- "$kill" --stop "$id"
	wait_for "$tmp/sig-$num/got"
	if [ "$(cat "$tmp/sig-$num/got" 2>/dev/null)" = "got $trapped" ]; then ok "the init got signal $num"
	else not_ok "the init's trap for $trapped did not run: '$(cat "$tmp/sig-$num/got" 2>&1)'"; fi
	wait_stopped "$id"
	expect 0 "keel-ps after the stop signal" -- "$ps"
	has out "stopped(0)"
	expect 0 "keel-rm" -- "$rm" "$id"
	gone "$id"
done
id=$(name)
expect 125 "keel-run --stop-signal SIGFOO is refused" -- "$run" --rm --name "$id" --stop-signal SIGFOO -- true
has err "--stop-signal SIGFOO: not a signal"
gone "$id"
expect 125 "keel-run --stop-signal 65 is refused" -- "$run" --rm --name "$id" --stop-signal 65 -- true
has err "--stop-signal 65: not a signal"
id=$(name)
expect 0 "keel-run -d without --stop-signal" -- "$run" -d --name "$id" --layer "$rootfs" -- sleep 1000
if grep -qx "stop_signal=15" "$KEEL_STATE_ROOT/$id/state"; then ok "the state records the default stop_signal=15"
else not_ok "no stop_signal=15 in the state"; fi
expect 0 "keel-kill --stop -t 1 of an init that ignores TERM (KILL after 1 s)" -- "$kill" --stop -t 1 "$id"
expect 0 "keel-ps after it" -- "$ps"
has out "stopped(137)"
expect 0 "keel-kill --stop of a stopped container (nothing to do, as docker stop)" -- "$kill" --stop "$id"
expect 0 "keel-rm" -- "$rm" "$id"
gone "$id"
id=$(name)
expect 0 "keel-run -d of an init that traps TERM" -- "$run" -d --name "$id" --layer "$rootfs" -- \
	sh -c "trap 'exit 3' TERM; while :; do sleep 0.1; done"
sleep 0.3
expect 0 "keel-kill --stop: the default stop signal TERM ends it" -- "$kill" --stop -t 20 "$id"
expect 0 "keel-ps after it" -- "$ps"
has out "stopped(3)"
expect 0 "keel-rm" -- "$rm" "$id"
gone "$id"
expect 2 "keel-kill --stop -t x is refused" -- "$kill" --stop -t x "$id"
has err "-t 'x': not a number of seconds"
id=$(name)
expect 0 "keel-run -d --stop-signal USR1 -- sleep" -- "$run" -d --name "$id" --layer "$rootfs" --stop-signal USR1 -- sleep 1000
expect 0 "keel-kill without a signal sends KILL, not the stop signal (docker kill)" -- "$kill" "$id"
wait_stopped "$id"
expect 0 "keel-ps after it" -- "$ps"
has out "stopped(137)"
expect 0 "keel-rm" -- "$rm" "$id"
gone "$id"

# A corrupt state file: keel-ps goes on, keel-rm -f still removes it all.
id=$(name)
id2=${id}b
expect 0 "keel-run -d of a container whose state will be cut" -- "$run" -d --name "$id" -- sleep 1000
expect 0 "keel-run -d of a sound one" -- "$run" -d --name "$id2" -- sleep 1000
: >"$KEEL_STATE_ROOT/$id/state"
expect 0 "keel-ps with one corrupt state" -- "$ps"
has out "$id2"
has err "force delete"
expect 1 "keel-rm of the corrupt one refuses" -- "$rm" "$id"
expect 0 "keel-rm -f of the corrupt one" -- "$rm" -f "$id"
gone "$id"
expect 0 "keel-rm -f of the sound one" -- "$rm" -f "$id2"
gone "$id2"

# --- -d writes the container's stdout and stderr to its log; keel-logs
# reads it, --tail N the last lines, -f until the container stops
logs=$b/examples/keel-logs
id=$(name)
expect 0 "keel-run -d of a talking container" -- "$run" -d --name "$id" --layer "$rootfs" -- \
	sh -c 'echo one; echo two >&2; echo three; sleep 2; echo four'
expect 0 "keel-logs -f follows until it stops" -- "$logs" -f "$id"
if [ "$(tr '\n' ' ' <"$tmp/out")" = "one two three four " ]; then ok "keel-logs -f printed every line in order"
else not_ok "keel-logs -f printed '$(cat "$tmp/out")'"; fi
expect 0 "keel-logs --tail 2" -- "$logs" --tail 2 "$id"
if [ "$(tr '\n' ' ' <"$tmp/out")" = "three four " ]; then ok "--tail 2 printed the last two lines"
else not_ok "--tail 2 printed '$(cat "$tmp/out")'"; fi
expect 2 "keel-logs --tail of no number" -- "$logs" --tail x "$id"
has err "give a number of lines"
expect 0 "keel-rm of the talking container" -- "$rm" "$id"
expect 1 "keel-logs of a removed container" -- "$logs" "$id"
has err "not found"
gone "$id"

# --- keel-update: limits of a running container change at once and are
# recorded in its state; a device rule is proven by opening a node
update=$b/examples/keel-update
id=$(name)
expect 0 "keel-run -d of a container to update" -- "$run" -d --name "$id" --layer "$rootfs" -- sleep 1000
"$exec" "$id" -- mknod /tmp/tun c 10 200 >/dev/null 2>&1
expect 1 "open of c 10:200 before the update is refused" -- "$exec" "$id" -- sh -c ': < /tmp/tun'
has err "Operation not permitted"
expect 0 "keel-update --device-cgroup-rule" -- "$update" --device-cgroup-rule 'c 10:200 rwm' "$id"
has out "$id"
"$exec" "$id" -- sh -c ': < /tmp/tun' >"$tmp/out" 2>"$tmp/err"
if grep -q "Operation not permitted" "$tmp/err"; then not_ok "c 10:200 still refused after the update"
else ok "c 10:200 is no longer refused by the filter ($(cat "$tmp/err"))"; fi
if grep -qxF "device_rule=allow c 10:200 rwm" "$KEEL_STATE_ROOT/$id/state"; then ok "the rule is in the state"
else not_ok "the rule is not in the state"; sed 's/^/  state: /' "$KEEL_STATE_ROOT/$id/state"; fi
expect 0 "a second rule keeps the first" -- "$update" --device-cgroup-rule 'c 10:229 rwm' "$id"
if grep -qxF "device_rule=allow c 10:200 rwm" "$KEEL_STATE_ROOT/$id/state" &&
   grep -qxF "device_rule=allow c 10:229 rwm" "$KEEL_STATE_ROOT/$id/state"; then ok "both rules are recorded"
else not_ok "the rules recorded: $(grep device_rule "$KEEL_STATE_ROOT/$id/state")"; fi
cp "$KEEL_STATE_ROOT/$id/state" "$tmp/state.before"
for bad in "--pids 0" "--pids x" "--memory 0" "--cpus 0" "--cpu-weight x" "--memory-swap 1g"; do
	expect 2 "keel-update $bad is refused" -- "$update" $bad "$id"
	has err "${bad%% *}"
done
expect 1 "keel-update --cpu-weight 0 is refused by the library" -- "$update" --cpu-weight 0 "$id"
has err "cpu.weight"
expect 1 "keel-update --cpuset-cpus of no list" -- "$update" --cpuset-cpus 0-a "$id"
has err "not a list"
expect 1 "keel-update of a malformed rule" -- "$update" --device-cgroup-rule 'c 10 rwm' "$id"
has err "expected TYPE MAJOR:MINOR ACCESS"
if grep -qw memory "$cg2/cgroup.controllers"; then
	expect 0 "keel-update --memory where the controller exists" -- "$update" --memory 64m --pids 20 "$id"
	if [ "$(cat "$cg2/keel/$id/memory.max")" = 67108864 ]; then ok "memory.max is 64m"
	else not_ok "memory.max is $(cat "$cg2/keel/$id/memory.max")"; fi
	if grep -qxF "resource=memory.max 67108864" "$KEEL_STATE_ROOT/$id/state"; then ok "memory.max is recorded"
	else not_ok "memory.max is not recorded"; fi
	cp "$KEEL_STATE_ROOT/$id/state" "$tmp/state.before"
	expect 1 "keel-update --cpuset-cpus of a missing CPU" -- "$update" --pids 30 --cpuset-cpus 4000 "$id"
	has err "nothing was changed"
	if [ "$(cat "$cg2/keel/$id/pids.max")" = 20 ]; then ok "pids.max is put back"
	else not_ok "pids.max is $(cat "$cg2/keel/$id/pids.max")"; fi
else
	expect 1 "keel-update --memory without the memory controller" -- "$update" --pids 20 --memory 64m "$id"
	has err "controller memory is not available"
	has err "nothing was changed"
fi
if cmp -s "$tmp/state.before" "$KEEL_STATE_ROOT/$id/state"; then ok "refused updates left the state as it was"
else not_ok "a refused update changed the state"; diff "$tmp/state.before" "$KEEL_STATE_ROOT/$id/state"; fi
expect 0 "keel-kill of the updated container" -- "$kill" "$id"
wait_stopped "$id"
expect 1 "keel-update of a stopped container" -- "$update" --pids 20 "$id"
has err "only a created, running or paused container can be updated"
expect 0 "keel-rm of the updated container" -- "$rm" "$id"
expect 1 "keel-update of a removed container" -- "$update" --pids 20 "$id"
has err "not found"
expect 2 "keel-update without an id" -- "$update" --pids 20
gone "$id"

# --- an installed keel-run (a copy outside the build tree) has no default
# image: it says what to give and leaves nothing; $KEEL_ROOTFS or --rootfs
# is enough.
mkdir -p "$tmp/bin" && cp "$b/examples/.libs/keel-run" "$tmp/bin/keel-run"
id=$(name)
expect 125 "an installed keel-run without an image" -- \
	env -u KEEL_ROOTFS LD_LIBRARY_PATH="$b/.libs" "$tmp/bin/keel-run" --rm --name "$id" -- true
has err "no image given: use --rootfs DIR"
has err "--layer DIR"
gone "$id"
expect 0 "an installed keel-run with --rootfs" -- \
	env -u KEEL_ROOTFS LD_LIBRARY_PATH="$b/.libs" "$tmp/bin/keel-run" --rm --name "$id" --rootfs "$rootfs" -- true
expect 0 "an installed keel-run with \$KEEL_ROOTFS" -- \
	env KEEL_ROOTFS="$rootfs" LD_LIBRARY_PATH="$b/.libs" "$tmp/bin/keel-run" --rm --name "$id" -- true
gone "$id"
expect 0 "keel-run in the build tree defaults to its busybox rootfs" -- \
	env -u KEEL_ROOTFS "$run" --rm --name "$id" -- cat /etc/image-release
has out "from the image"

# --- --net: the bridge and the host end live in a namespace of our own
id=$(name)
if [ -n "$no_net" ]; then skip "keel-run --net" "$no_net"; else
	expect 0 "--net in a private network namespace" -- unshare -n sh -c "
		$run --rm --name $id --net kxbr$$:10.98.0.2/24 -- sh -c 'ip -o -4 addr show eth0; ip route' &&
		echo links: \$(ip -o link show | awk -F': ' '{print \$2}')"
	has out "10.98.0.2/24"
	has out "default via 10.98.0.1"
	has out "links: lo kxbr$$"
	gone "$id"
fi

echo "test-examples.sh: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
