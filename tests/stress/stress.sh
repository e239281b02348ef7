#!/bin/bash
# tests/stress/stress.sh: libkeel under faults, load and hostile input.
# `make stress` runs it with sizes that fit CI; larger runs by hand set the
# KEEL_STRESS_* variables below (tests/stress/README.md). Runs as root.
# Prints one table of figures at the end and exits 1 if a row FAILed.
#
#   make stress [STRESS_ARGS='PART...']     parts: faults race disk forkbomb
#                                           soak valgrind fuzz hostile escape
set -u
b=${KEEL_STRESS_BUILDDIR:?run with make stress}
src=${KEEL_STRESS_SRCDIR:?run with make stress}
seed=${KEEL_STRESS_SEED:-$(date +%s)}
n_faults=${KEEL_STRESS_FAULTS:-200}           # kill -9 runs, over all kinds
n_races=${KEEL_STRESS_RACES:-10}              # rm/rm/kill/exec at once
n_soak=${KEEL_STRESS_SOAK:-1000}              # API cycles
n_soak_net=${KEEL_STRESS_SOAK_NET:-100}       # API cycles with a veth
n_valgrind=${KEEL_STRESS_VALGRIND:-50}       # API cycles under valgrind
n_fuzz=${KEEL_STRESS_FUZZ:-2000}              # inputs per in-process parser
n_fuzz_run=${KEEL_STRESS_FUZZ_OPTIONS:-60}   # keel-run command lines
asan_build=${KEEL_STRESS_ASAN_BUILDDIR:-}     # an --enable-sanitizers build dir
parts=${*:-faults race disk forkbomb soak valgrind fuzz hostile escape}

run=$b/examples/keel-run exec=$b/examples/keel-exec kill=$b/examples/keel-kill rm=$b/examples/keel-rm
api=$b/tests/stress/stress-api fuzz=$b/tests/stress/keel-fuzz
rootfs=$b/tests/rootfs
tmp=$(mktemp -d /tmp/keel-stress-XXXXXX)
chmod 755 "$tmp"
probe=$tmp/probe-layer            # an image layer holding /stress-probe
mkdir -p "$probe" && cp "$b/tests/stress/stress-probe" "$probe/"
export KEEL_STATE_ROOT=$tmp/state
mkdir -p "$KEEL_STATE_ROOT"
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
ns=ks$$                           # the scratch network namespace
table=$tmp/table failed=0
RANDOM=$seed

. "$src/tests/cgroup-parents.sh"
cg_parents_note keel
cleanup() {
	for id in $(ls "$KEEL_STATE_ROOT" 2>/dev/null); do "$rm" -f "$id" >/dev/null 2>&1; done
	ip netns del "$ns" 2>/dev/null
	grep -F " $tmp/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$tmp"
	cg_parents_drop
}
trap cleanup EXIT
trap "exit 130" INT TERM

say() { printf 'stress: %s\n' "$*"; }
# row PART CASE FIGURES STATUS [NOTE]: one line of the final table
row() {
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" >>"$table"
	[ "$4" = FAIL ] && failed=$((failed + 1))
	say "$1 / $2: $3 [$4] ${5:-}"
}
want() { case " $parts " in *" $1 "*) return 0 ;; esac; return 1; }
ms() { date +%s%3N; }

# ------------------------------------------------------------ leftovers --

# What is left of container ID: sets L_state L_cg L_mnt L_proc L_veth.
left_of() {
	local id=$1 d
	L_state=0 L_cg=0 L_mnt=0 L_proc=0 L_veth=0
	[ -e "$KEEL_STATE_ROOT/$id" ] && L_state=1
	for d in $(find "$cg2" -maxdepth 6 -type d -name "$id" 2>/dev/null); do
		L_cg=$((L_cg + 1))
		L_proc=$((L_proc + $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | wc -l)))
	done
	L_mnt=$(grep -c -F "/$id/" /proc/self/mountinfo)
	[ "$L_proc" = 0 ] && L_proc=$(pgrep -c -f -- "$id")
	if ip netns list 2>/dev/null | grep -qw "$ns"; then
		L_veth=$(ip -n "$ns" -o link show type veth 2>/dev/null | wc -l)
	fi
	L_sum=$((L_state + L_cg + L_mnt + L_proc + L_veth))
}
left_text() { echo "state $L_state, cgroups $L_cg, mounts $L_mnt, processes $L_proc, veths $L_veth"; }

# Remove by hand what no tool removed, so that the next run starts clean.
scrub() {
	local id=$1 d
	for d in $(find "$cg2" -maxdepth 6 -type d -name "$id" 2>/dev/null); do
		echo 1 >"$d/cgroup.kill" 2>/dev/null
		sleep 0.1
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	pkill -9 -f -- "$id" 2>/dev/null
	grep -F "/$id/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rm -rf "${KEEL_STATE_ROOT:?}/$id"
	ip -n "$ns" -o link show type veth 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
		xargs -r -n1 ip -n "$ns" link del 2>/dev/null
}

# A detached container running `sleep 30`, for exec, rm and races.
detached() {
	"$run" -d --name "$1" --layer "$rootfs" --layer "$probe" -- /bin/sleep 30 >/dev/null 2>&1
}

netns_up() {
	ip netns list | grep -qw "$ns" || { ip netns add "$ns" && ip -n "$ns" link set lo up; }
}

# ---------------------------------------------------------------- faults --

# The command of one fault run of KIND on container ID (after its set-up).
fault_cmd() {
	local kind=$1 id=$2
	case $kind in
	run) echo "$run --rm --name $id --layer $rootfs --layer $probe -- /bin/true" ;;
	net) echo "nsenter --net=/run/netns/$ns $run --rm --name $id --net kbr$$:10.88.0.2/24 -- /bin/true" ;;
	api) echo "$api life $KEEL_STATE_ROOT $id $rootfs $probe" ;;
	exec) detached "$id"; echo "$exec $id -- /bin/true" ;;
	rm) detached "$id"; echo "$rm -f $id" ;;
	esac
}

# The tool that cleans up after KIND: keel-rm -f, or the API's force delete.
fault_clean() {
	if [ "$1" = api ]; then "$api" delete "$KEEL_STATE_ROOT" "$2"; else "$rm" -f "$2"; fi >/dev/null 2>&1
}

declare -A F_runs F_hit F_left F_bad F_example
# One run: start, kill -9 at a random point within 1.2x its clean duration,
# count what is left, clean with the tool, count again.
fault_run() {
	local kind=$1 id=$2 span=$3 cmd pid delay
	cmd=$(fault_cmd "$kind" "$id")
	delay=$(( (RANDOM * 32768 + RANDOM) % (span * 1200 + 1) ))   # microseconds
	$cmd >/dev/null 2>&1 &
	pid=$!
	sleep "$((delay / 1000000)).$(printf '%06d' $((delay % 1000000)))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	sleep 0.05
	F_runs[$kind]=$(( ${F_runs[$kind]:-0} + 1 ))
	left_of "$id"
	[ "$L_sum" -gt 0 ] && F_hit[$kind]=$(( ${F_hit[$kind]:-0} + 1 ))
	F_left[$kind]=$(( ${F_left[$kind]:-0} + L_sum ))
	fault_clean "$kind" "$id"
	left_of "$id"
	if [ "$L_sum" -gt 0 ]; then
		F_bad[$kind]=$(( ${F_bad[$kind]:-0} + 1 ))
		[ -n "${F_example[$kind]:-}" ] || F_example[$kind]="$id killed at $((delay / 1000)) ms: $(left_text)"
		scrub "$id"
	fi
}

# The clean duration of one run of KIND, in ms (at least 20).
fault_span() {
	local kind=$1 id=ksf$$-t$1 cmd t0 t1
	cmd=$(fault_cmd "$kind" "$id")
	t0=$(ms)
	$cmd >/dev/null 2>&1
	t1=$(ms)
	fault_clean "$kind" "$id"
	scrub "$id"
	echo $(( t1 - t0 < 20 ? 20 : t1 - t0 ))
}

part_faults() {
	local kinds="run api exec rm net" kind i=0 span
	declare -A spans
	netns_up
	for kind in $kinds; do spans[$kind]=$(fault_span "$kind"); done
	say "faults: seed $seed, $n_faults runs; clean durations (ms):$(for k in $kinds; do printf ' %s %s' "$k" "${spans[$k]}"; done)"
	while [ $i -lt "$n_faults" ]; do
		for kind in $kinds; do
			[ $i -lt "$n_faults" ] || break
			fault_run "$kind" "ksf$$-$i" "${spans[$kind]}"
			i=$((i + 1))
		done
	done
	for kind in $kinds; do
		local what
		case $kind in
		run) what="keel-run --rm (create, start, wait, delete)" ;;
		net) what="keel-run --rm --net in a scratch netns" ;;
		api) what="API: create, start, exec, kill, delete" ;;
		exec) what="keel-exec into a running container" ;;
		rm) what="keel-rm -f of a running container" ;;
		esac
		row faults "kill -9: $what" "runs ${F_runs[$kind]:-0}, left something ${F_hit[$kind]:-0} (objects ${F_left[$kind]:-0}), left after $( [ $kind = api ] && echo 'delete(FORCE)' || echo 'keel-rm -f') ${F_bad[$kind]:-0}" \
			"$( [ "${F_bad[$kind]:-0}" = 0 ] && echo ok || echo FAIL)" \
			"$( [ -n "${F_example[$kind]:-}" ] && echo "issue 22 (sec: undeletable containers); e.g. ${F_example[$kind]}")"
	done
}

# ----------------------------------------------------------------- races --

part_race() {
	local r id rc hung=0 crashed=0 bad=0 pids example= p
	for ((r = 0; r < n_races; r++)); do
		id=ksr$$-$r
		detached "$id"
		timeout 30 "$rm" -f "$id" >/dev/null 2>&1 & pids="$!"
		timeout 30 "$rm" -f "$id" >/dev/null 2>&1 & pids="$pids $!"
		timeout 30 "$kill" -a "$id" KILL >/dev/null 2>&1 & pids="$pids $!"
		timeout 30 "$exec" "$id" -- /bin/true >/dev/null 2>&1 & pids="$pids $!"
		timeout 30 "$api" delete "$KEEL_STATE_ROOT" "$id" >/dev/null 2>&1 & pids="$pids $!"
		for p in $pids; do
			wait "$p"; rc=$?
			[ $rc = 124 ] && hung=$((hung + 1))
			[ $rc -gt 128 ] && crashed=$((crashed + 1))
		done
		[ -e "$KEEL_STATE_ROOT/$id" ] && "$rm" -f "$id" >/dev/null 2>&1
		left_of "$id"
		if [ "$L_sum" -gt 0 ]; then
			bad=$((bad + 1))
			[ -n "$example" ] || example="$id: $(left_text)"
			scrub "$id"
		fi
	done
	row race "2x keel-rm -f, keel-kill -a, keel-exec, API delete at once" \
		"rounds $n_races, hung $hung, crashed $crashed, left after $bad" \
		"$( [ $((hung + crashed + bad)) = 0 ] && echo ok || echo FAIL)" "$example"
}

# ------------------------------------------------------------------ disk --

part_disk() {
	local mnt=$tmp/disk id rc out
	mkdir -p "$mnt"
	mount -t tmpfs -o size=16m,mode=755 kstress "$mnt" || { row disk "tmpfs for a full disk" "-" SKIP "mount tmpfs failed"; return; }
	mkdir -p "$mnt/state"
	# 1. the writable layer fills up while the container writes
	id=ksd$$-1
	out=$(KEEL_STATE_ROOT=$mnt/state "$run" --rm --name "$id" --layer "$rootfs" -- \
		sh -c 'dd if=/dev/zero of=/fill bs=64k 2>/dev/null; echo wrote; exit 0' 2>&1); rc=$?
	disk_check "writable layer fills (the container writes until ENOSPC), --rm" "$mnt/state" "$id" "$rc" "$out" any
	# 2. the state root is full before create
	dd if=/dev/zero of="$mnt/filler" bs=64k 2>/dev/null
	id=ksd$$-2
	out=$(KEEL_STATE_ROOT=$mnt/state "$run" --rm --name "$id" --layer "$rootfs" -- /bin/true 2>&1); rc=$?
	disk_check "state root full before keel-run (expect 125, nothing made)" "$mnt/state" "$id" "$rc" "$out" 125
	id=ksd$$-3
	out=$("$api" life "$mnt/state" "$id" "$rootfs" "$probe" 2>&1); rc=$?
	disk_check "state root full before the API's create" "$mnt/state" "$id" "$rc" "$out" nonzero
	# 3. the disk fills while a container runs; then it stops and is removed
	rm -f "$mnt/filler"
	id=ksd$$-4
	KEEL_STATE_ROOT=$mnt/state "$run" -d --name "$id" --layer "$rootfs" -- /bin/sleep 30 >/dev/null 2>&1
	dd if=/dev/zero of="$mnt/filler" bs=64k 2>/dev/null
	KEEL_STATE_ROOT=$mnt/state "$kill" "$id" KILL >/dev/null 2>&1
	sleep 0.3
	out=$(KEEL_STATE_ROOT=$mnt/state "$rm" -f "$id" 2>&1); rc=$?
	disk_check "disk full while running, then keel-kill + keel-rm -f (expect 0)" "$mnt/state" "$id" "$rc" "$out" 0
	rm -f "$mnt/filler"
	umount -l "$mnt"
}

# disk_check CASE ROOT ID STATUS OUTPUT WANT: nothing may be left once the
# tools ran; WANT is the exit status expected (any, nonzero or a number).
disk_check() {
	local what=$1 root=$2 id=$3 rc=$4 out=$5 want=$6 st=ok note=
	KEEL_STATE_ROOT=$root left_of "$id"
	[ -e "$root/$id" ] && L_state=1
	local before=$L_sum
	if [ "$before" -gt 0 ]; then
		KEEL_STATE_ROOT=$root "$rm" -f "$id" >/dev/null 2>&1
		KEEL_STATE_ROOT=$root left_of "$id"
		[ -e "$root/$id" ] && L_state=1 L_sum=$((L_sum + 1))
	fi
	case $want in
	any) [ $rc -gt 128 ] && st=FAIL ;;
	nonzero) { [ $rc = 0 ] || [ $rc -gt 128 ]; } && st=FAIL ;;
	*) [ $rc = "$want" ] || st=FAIL ;;
	esac
	[ "$L_sum" -gt 0 ] && st=FAIL note="left after keel-rm -f: $(left_text)"
	row disk "$what" "status $rc, objects left $before, after keel-rm -f $L_sum" $st \
		"${note:-$(printf '%s' "$out" | tr '\n' ' ' | cut -c1-120)}"
	[ "$L_sum" -gt 0 ] && KEEL_STATE_ROOT=$root scrub "$id" && rm -rf "${root:?}/$id"
}

# ------------------------------------------------------------- fork bomb --

part_forkbomb() {
	local id=ksb$$ cg cur max
	if ! grep -qw pids "$cg2/cgroup.controllers" 2>/dev/null; then
		row forkbomb "fork bomb under --pids 64" "-" SKIP \
			"no pids controller in $cg2/cgroup.controllers (v1/v2 hybrid); tests/stress/test-forkbomb runs it in tests/vm (make check)"
		return
	fi
	"$run" -d --name "$id" --pids 64 --layer "$rootfs" -- sh -c 'f() { f | f & }; f; sleep 30' >/dev/null 2>&1
	sleep 3
	cg=$(find "$cg2" -maxdepth 6 -type d -name "$id" | head -n1)
	cur=$(cat "$cg/pids.current" 2>/dev/null || echo -1)
	max=$(awk '$1 == "max" { print $2 }' "$cg/pids.events" 2>/dev/null)
	"$rm" -f "$id" >/dev/null 2>&1
	left_of "$id"
	row forkbomb "fork bomb under --pids 64" "pids.current $cur, pids.events max ${max:-?}, left after keel-rm -f $L_sum" \
		"$( [ "$cur" -le 64 ] && [ "$cur" -gt 0 ] && [ "$L_sum" = 0 ] && echo ok || echo FAIL)"
	[ "$L_sum" = 0 ] || scrub "$id"
}

# ------------------------------------------------------------------ soak --

# kv FILE KEY: a key=value line's value
kv() { sed -n "s/^$2=//p" "$1" | head -n1; }

# soak_row CASE OUT ROOT [VETHS [RSS_SLACK_KIB]]: judge a soak's output
soak_row() {
	local what=$1 out=$2 root=$3 veths=${4:-0} slack=${5:-1024} cycles failed f0 f1 r0 r1 left st=ok
	cycles=$(kv "$out" cycles) failed=$(kv "$out" failed)
	f0=$(kv "$out" fds_start) f1=$(kv "$out" fds_end) r0=$(kv "$out" rss_start_kib) r1=$(kv "$out" rss_end_kib)
	left=$(( $(ls "$root" | wc -l) + $(grep -c -F "$root/" /proc/self/mountinfo) + veths ))
	left=$(( left + $(find "$cg2" -maxdepth 6 -type d -name "ks[0-9]*-[0-9]*" 2>/dev/null | wc -l) ))
	if [ -z "$cycles" ] || [ "$failed" != 0 ] || [ "$f0" != "$f1" ] || [ $((r1 - r0)) -gt "$slack" ] || [ "$left" != 0 ]; then
		st=FAIL
	fi
	row soak "$what" "cycles ${cycles:-?}, failed ${failed:-?}, fds ${f0:-?} -> ${f1:-?}, RSS ${r0:-?} -> ${r1:-?} KiB, objects left $left" $st \
		"$( [ $st = FAIL ] && grep -m1 '^cycle ' "$out")"
}

# veth_settle NS TENTHS: wait until NS has no veth left, or TENTHS/10 s
veth_settle() {
	local i=0
	while [ "$i" -lt "$2" ] && [ "$(ip -n "$1" -o link show type veth | wc -l)" != 0 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

part_soak() {
	local root=$tmp/soak-state out=$tmp/soak.out t0 slack=1024
	# ASan's quarantine holds freed memory: RSS is not the caller's to judge
	grep -q '^SANITIZE_CFLAGS = -fsanitize' "$b/Makefile" 2>/dev/null && slack=999999999
	mkdir -p "$root"
	t0=$(ms)
	"$api" soak "$root" "$rootfs" "$n_soak" >"$out" 2>&1
	soak_row "create/start/wait/delete via the API ($(( ($(ms) - t0) / (n_soak > 0 ? n_soak : 1) )) ms each)" "$out" "$root" 0 $slack
	netns_up
	root=$tmp/soak-net-state out=$tmp/soak-net.out
	mkdir -p "$root"
	nsenter --net=/run/netns/"$ns" "$api" soak "$root" "$rootfs" "$n_soak_net" kbs$$ 10.89.0.2/24 >"$out" 2>&1
	# delete leaves the last pair to the kernel's netns cleanup work queue
	# (unwire_network in src/container.c): give it up to 5 s to run
	veth_settle "$ns" 50
	soak_row "the same with a veth on a bridge (scratch netns)" "$out" "$root" \
		"$(ip -n "$ns" -o link show type veth | wc -l)" $slack
	if [ -n "$asan_build" ]; then
		root=$tmp/soak-asan-state out=$tmp/soak-asan.out
		mkdir -p "$root"
		ASAN_OPTIONS=detect_leaks=1 "$asan_build/tests/stress/stress-api" soak "$root" "$rootfs" "$n_valgrind" >"$out" 2>&1
		soak_row "under ASan+UBSan ($asan_build; RSS is ASan's)" "$out" "$root" 0 999999999
		grep -q 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error:' "$out" &&
			row soak "ASan report" "$(grep -c 'ERROR:' "$out") reports" FAIL "$(grep -m1 'ERROR:' "$out")"
	elif grep -q '^SANITIZE_CFLAGS = -fsanitize' "$b/Makefile" 2>/dev/null; then
		row soak "ASan+UBSan" "this build is a sanitizer build: every row above ran under it" ok
	else
		row soak "ASan+UBSan" "-" SKIP "set KEEL_STRESS_ASAN_BUILDDIR to an --enable-sanitizers build (make stress there)"
	fi
}

part_valgrind() {
	local root=$tmp/vg-state log=$tmp/vg.log out=$tmp/vg.out pid lost errs child
	command -v valgrind >/dev/null || { row valgrind "soak under memcheck" "-" SKIP "valgrind not installed"; return; }
	mkdir -p "$root"
	# no masked/read-only paths: the child sets them with mount_setattr(),
	# which valgrind 3.19 does not know (ENOSYS), so every cycle would fail
	KEEL_STRESS_NO_DEFAULTS=1 valgrind --leak-check=full --show-leak-kinds=definite,indirect \
		--suppressions="$src/tests/stress/valgrind.supp" --log-file="$log" \
		"$api" soak "$root" "$rootfs" "$n_valgrind" >"$out" 2>&1 &
	pid=$!
	wait $pid
	lost=$(sed -n "s/^==$pid==.*definitely lost: \([0-9,]*\) bytes.*/\1/p" "$log" | tr -d ,)
	[ -n "$lost" ] || grep -q "^==$pid==.*no leaks are possible" "$log" && lost=${lost:-0}
	errs=$(sed -n "s/^==$pid== ERROR SUMMARY: \([0-9]*\) errors.*/\1/p" "$log")
	child=$(grep -v "^==$pid==" "$log" | grep -c 'ERROR SUMMARY: [1-9]')
	# RSS is valgrind's own there (its shadow memory grows): not judged
	soak_row "under valgrind memcheck (no masked paths; RSS is valgrind's)" "$out" "$root" 0 999999999
	row valgrind "memcheck of the calling process" "errors ${errs:-?}, definitely lost ${lost:-?} bytes, children with errors $child" \
		"$( [ "${errs:-1}" = 0 ] && [ "${lost:-1}" = 0 ] && [ "$child" = 0 ] && echo ok || echo FAIL)" \
		"$(grep -m1 -A3 "^==$pid== \(Invalid\|Conditional\|Syscall\)" "$log" | tr '\n' ' ' | cut -c1-160)"
}

# ------------------------------------------------------------------ fuzz --

part_fuzz() {
	local t line n st crashes=$tmp/crashes
	for t in state idmap cgroup security-profile keel-run-options; do
		n=$n_fuzz
		[ $t = keel-run-options ] && n=$n_fuzz_run
		line=$(KEEL_STRESS_KEEL_RUN=$run KEEL_STRESS_KEEL_RM=$rm KEEL_STATE_ROOT=$tmp/fuzz-state \
			"$fuzz" -s "$seed" -n "$n" -r "$src/tests/stress/regress" -o "$crashes" "$t" 2>"$tmp/fuzz-$t.err" |
			tee "$tmp/fuzz-$t.out" | grep '^fuzz ')
		st=ok
		case $line in *" crashes=0 timeouts=0 "*) ;; *) st=FAIL ;; esac
		case $line in *" findings=0") ;; *) st=FAIL ;; esac
		row fuzz "$t" "${line#fuzz $t }" $st \
			"$(grep -v '^fuzz ' "$tmp/fuzz-$t.out" | sort | uniq -c | sort -rn | head -n2 | tr -s ' \n' ' ')$(
			   ls "$crashes" 2>/dev/null | grep -q "crash-$t-" && echo " inputs kept in $crashes (copy to tests/stress/regress/$t/)")"
	done
	[ -d "$crashes" ] && [ "$failed" -gt 0 ] && cp -r "$crashes" "/tmp/keel-stress-crashes-$$" &&
		say "crash inputs copied to /tmp/keel-stress-crashes-$$"
}

# --------------------------------------------------------------- hostile --

# hostile_opt CASE CHECK ARGS...: keel-run ARGS -- id -u / id -g; CHECK is
# refused (status 125, nothing left) or an awk condition on "uid gid".
hostile_opt() {
	local what=$1 check=$2 id=ksh$$-$RANDOM out rc st=ok
	shift 2
	out=$("$run" --rm --name "$id" "$@" -- sh -c 'echo $(id -u) $(id -g)' 2>&1); rc=$?
	left_of "$id"
	if [ "$check" = refused ]; then
		{ [ $rc = 125 ] && [ "$L_sum" = 0 ]; } || st=FAIL
	else
		echo "$out" | tail -n1 | awk "{ exit !($check) }" || st=FAIL
	fi
	row hostile "keel-run $* ($what)" "status $rc, output '$(echo "$out" | tail -n1 | cut -c1-60)', left $L_sum" $st \
		"$( [ $st = FAIL ] && echo 'issue 22 (sec: option wrapping / validation)')"
	"$rm" -f "$id" >/dev/null 2>&1
	[ "$L_sum" = 0 ] || scrub "$id"
}

part_hostile() {
	hostile_opt "uid 2^32 must not become root" refused --user 4294967296
	hostile_opt "an empty gid must not become 0" refused --user 65534:
	hostile_opt "gid 2^32 must not become 0" refused --user 65534:4294967296
	hostile_opt "16 EiB must not become no limit" refused --memory 17179869184g
	hostile_opt "an empty rootfs is an error" refused --rootfs=
	local rc
	"$api" load-null "$KEEL_STATE_ROOT" "$rootfs" >/dev/null 2>&1; rc=$?
	row hostile "keel_container_load(NULL, id of an existing container)" "status $rc (0: -EINVAL returned)" \
		"$( [ $rc = 0 ] && echo ok || echo FAIL)" "$( [ $rc -gt 128 ] && echo "signal $((rc - 128)); issue 22 (sec: load(NULL))")"
}

# ---------------------------------------------------------------- escape --

# escape_row CASE ESCAPED TOTAL DETAIL
escape_row() {
	row escape "$1" "$2 of $3 escaped" "$( [ "$2" = 0 ] && [ "$3" -gt 0 ] && echo ok || echo FAIL)" \
		"$( [ "$2" != 0 ] && echo "issue 22 (sec); $4")"
}

part_escape() {
	local id=kse$$ out n esc total detail
	# 1. no host fd inside: the init, a keel-exec'd process, an API exec
	out=$("$run" --rm --name "$id-1" --layer "$rootfs" --layer "$probe" -- /stress-probe fds 2>&1)
	n=$(echo "$out" | grep -c '^fd ')
	row escape "fds the init sees beyond 0-2 (ls -l /proc/self/fd)" "$n" "$( [ "$n" = 0 ] && echo ok || echo FAIL)" \
		"$(echo "$out" | grep '^fd ' | head -n3 | tr '\n' ' ')"
	detached "$id-2"
	out=$("$exec" "$id-2" -- /stress-probe fds 2>&1)
	n=$(echo "$out" | grep -c '^fd ')
	row escape "fds a keel-exec'd process sees beyond 0-2" "$n" "$( [ "$n" = 0 ] && echo ok || echo FAIL)" \
		"$(echo "$out" | grep '^fd ' | head -n3 | tr '\n' ' ')"
	# 2. the working directory /proc/self/fd/N (runc CVE-2024-21626)
	for mode in init exec; do
		esc=0 total=0 detail=
		for fd in 3 4 5 6 7 8 9 10 11 12; do
			out=$("$api" cwd "$KEEL_STATE_ROOT" "$id-c$fd" "$rootfs" "$probe" "/proc/self/fd/$fd" \
				$( [ $mode = exec ] && echo exec) 2>&1)
			total=$((total + 1))
			if echo "$out" | grep -q '^result=escaped'; then
				esc=$((esc + 1)) detail="$detail fd $fd"
			fi
		done
		escape_row "cwd /proc/self/fd/N (N=3..12) of the $mode: .. reaches the host" $esc $total "escaped with$detail"
	done
	# 3. /proc/PID/exe of a joining keel-exec, reopened for writing (CVE-2019-5736)
	"$run" --rm --name "$id-3" --layer "$rootfs" --layer "$probe" -- /stress-probe exe-watch 5 >"$tmp/watch.out" 2>&1 &
	local watcher=$!
	sleep 1
	for i in 1 2 3 4 5 6 7 8; do "$exec" "$id-3" -- /bin/true >/dev/null 2>&1; sleep 0.2; done
	wait $watcher
	n=$(grep -c '^ESCAPE' "$tmp/watch.out")
	row escape "host binary (/proc/PID/exe of keel-exec) opened for writing from inside" \
		"$n times in 8 execs ($(grep -m1 '^exe-watch' "$tmp/watch.out" | sed 's/^exe-watch: //'))" \
		"$( [ "$n" = 0 ] && grep -q '^exe-watch' "$tmp/watch.out" && echo ok || echo FAIL)" \
		"$( [ "$n" != 0 ] && echo "issue 22 (sec: /proc/PID/exe); $(grep -m1 '^ESCAPE' "$tmp/watch.out")")"
	# 4. the default seccomp profile, for the init and for an exec'd process
	out=$("$run" --rm --name "$id-4" --layer "$rootfs" --layer "$probe" -- /stress-probe syscalls 2>&1)
	n=$(echo "$out" | grep -c 'ALLOWED\|Invalid\|Bad\|exists\|No such')
	row escape "default profile: keyctl bpf kexec_load open_by_handle_at unshare(USER) mount (init)" \
		"$(echo "$out" | tr '\n' ';' | cut -c1-150)" "$( [ "$n" = 0 ] && echo "$out" | grep -q '^mount' && echo ok || echo FAIL)"
	out=$("$exec" "$id-2" -- /stress-probe syscalls 2>&1)
	n=$(echo "$out" | grep -c 'ALLOWED\|Invalid\|Bad\|exists\|No such')
	row escape "the same for a keel-exec'd process" "$(echo "$out" | tr '\n' ';' | cut -c1-150)" \
		"$( [ "$n" = 0 ] && echo "$out" | grep -q '^mount' && echo ok || echo FAIL)"
	"$rm" -f "$id-2" >/dev/null 2>&1
	# 5. capabilities dropped from the container stay dropped for an exec
	"$run" -d --name "$id-5" --cap-drop CHOWN --cap-drop NET_RAW -- /bin/sleep 30 >/dev/null 2>&1
	out=$("$exec" "$id-5" -- sh -c 'grep CapBnd /proc/1/status; grep CapBnd /proc/self/status' 2>&1)
	row escape "capabilities of a keel-exec'd process after --cap-drop CHOWN,NET_RAW" \
		"$(echo "$out" | awk '{ print $2 }' | tr '\n' ' ')(init, exec)" \
		"$( [ "$(echo "$out" | awk '{ print $2 }' | sort -u | wc -l)" = 1 ] && echo ok || echo FAIL)"
	"$rm" -f "$id-5" >/dev/null 2>&1
}

# ------------------------------------------------------------------ main --

say "seed $seed (KEEL_STRESS_SEED=$seed reproduces the run); parts: $parts"
t_start=$(ms)
for p in faults race disk forkbomb soak valgrind fuzz hostile escape; do
	want $p || continue
	t0=$(ms)
	say "---- $p"
	part_$p
	say "---- $p took $(( ($(ms) - t0) / 1000 )) s"
done

echo
echo "==== libkeel stress: seed $seed, $(( ($(ms) - t_start) / 1000 )) s, $(nproc) CPUs, kernel $(uname -r)"
awk -F'\t' '{ printf "%-9s %-72s %-6s %s\n", $1, substr($2, 1, 72), $4, $3; if ($5 != "") printf "%-9s %-72s %-6s   %s\n", "", "", "", substr($5, 1, 200) }' "$table"
echo "==== $(grep -c . "$table") rows, $failed FAIL"
# Kept in the build directory, so that .ci/summary can name the rows that
# failed at the end of a CI log, where a reader looks first.
{ echo "# seed $seed"; cat "$table"; } >"$b/tests/stress/stress-table.tsv" 2>/dev/null || true
[ "$failed" = 0 ]
