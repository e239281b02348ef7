#!/bin/sh
# keelrt's verbs, as runc's callers use them: create/start/state/exec/ps/
# list/pause/resume/kill/delete, run, update, spec (validated against the
# runtime-spec's JSON schema), features, the JSON log, the runc-style
# errors callers parse, and that nothing is left behind.
set -u
B=${KEEL_TOP_BUILDDIR:-$(pwd)}
S=${KEEL_TOP_SRCDIR:-$(dirname "$0")/..}
K="$B/cli/keelrt"
ROOTFS=${KEEL_TEST_ROOTFS:-$B/tests/rootfs}
SCHEMA=/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema
[ "$(id -u)" = 0 ] || { echo "SKIP: keelrt: needs root"; exit 77; }
[ -x "$K" ] || { echo "SKIP: keelrt: $K not built"; exit 77; }
W=$(mktemp -d "${TMPDIR:-/var/tmp}/keelrt-test.XXXXXX")
R="$W/state"
ID="kr$$"
CG2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
fails=0
cleanup() {
	"$K" --root "$R" delete --force "$ID" >/dev/null 2>&1
	"$K" --root "$R" delete --force "${ID}r" >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
expect() { # what, want (substring), got
	case "$3" in *"$2"*) ok "$1";; *) fail "$1: want '$2', got '$3'";; esac
}

# spec, and the schema check of what it writes
mkdir -p "$W/b" "$W/rl"
"$K" spec -b "$W/b" || fail "spec"
"$K" spec --rootless -b "$W/rl" || fail "spec --rootless"
expect "spec twice refuses" "exists. Remove it first" "$("$K" spec -b "$W/b" 2>&1)"
if python3 "$S/tests/oci/check-spec.py" "$SCHEMA" "$W/b/config.json" "$W/rl/config.json"; then
	ok "spec validates against the runtime-spec schema"
	echo '{"ociVersion":5,"process":{"args":"sh","cwd":"/"}}' > "$W/bad.json"
	python3 "$S/tests/oci/check-spec.py" "$SCHEMA" "$W/bad.json" >/dev/null && fail "schema check accepts a bad document"
else
	[ $? = 77 ] || fail "spec does not validate"
fi
"$K" features | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ociVersionMax"]=="1.2.0"' \
	&& ok "features is JSON" || fail "features"

# a bundle on the busybox rootfs, read-only, running a sleeper
python3 - "$W/b/config.json" "$ROOTFS" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["root"] = {"path": sys.argv[2], "readonly": True}
c["process"]["terminal"] = False
c["process"]["args"] = ["sleep", "1000"]
c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/sys/fs/cgroup"]
json.dump(c, open(sys.argv[1], "w"))
PY
"$K" --root "$R" create --bundle "$W/b" --pid-file "$W/pid" "$ID" || fail "create"
expect "created" '"status":"created"' "$("$K" --root "$R" state "$ID")"
expect "pid file is the init" "\"pid\":$(cat "$W/pid")," "$("$K" --root "$R" state "$ID")"
"$K" --root "$R" start "$ID" || fail "start"
expect "running" '"status":"running"' "$("$K" --root "$R" state "$ID")"
expect "start twice" "cannot start an already running container" "$("$K" --root "$R" start "$ID" 2>&1)"
expect "exec args" "hello-exec" "$("$K" --root "$R" exec "$ID" echo hello-exec)"
echo '{"args":["sh","-c","echo from-process-file; exit 7"],"cwd":"/","env":["PATH=/bin"]}' > "$W/proc.json"
out=$("$K" --root "$R" exec --process "$W/proc.json" "$ID"); rc=$?
expect "exec --process" "from-process-file" "$out"
[ $rc = 7 ] && ok "exec exit status" || fail "exec exit status $rc"
"$K" --root "$R" exec -d --pid-file "$W/epid" "$ID" sleep 1000 || fail "exec -d"
[ -d "/proc/$(cat "$W/epid")" ] && ok "exec -d pid file" || fail "exec -d pid file"
expect "ps json" "$(cat "$W/pid")" "$("$K" --root "$R" ps --format json "$ID")"
expect "list" "$ID" "$("$K" --root "$R" list -q)"
"$K" --root "$R" pause "$ID" || fail "pause"
expect "paused" '"status":"paused"' "$("$K" --root "$R" state "$ID")"
"$K" --root "$R" resume "$ID" || fail "resume"
echo '{"unified":{"cgroup.max.depth":"3"}}' > "$W/res.json"
"$K" --root "$R" update -r "$W/res.json" "$ID" || fail "update -r"
expect "update reached the cgroup" "3" "$(cat "$CG2/keel/$ID/cgroup.max.depth" 2>&1)"
expect "update is recorded in the state" "resource=cgroup.max.depth 3" "$(grep '^resource=' "$R/$ID/state")"
expect "delete of a running container" "that is not stopped" "$("$K" --root "$R" delete "$ID" 2>&1)"
"$K" --root "$R" kill --all "$ID" KILL || fail "kill --all"
for i in 1 2 3 4 5 6 7 8 9 10; do
	case "$("$K" --root "$R" state "$ID")" in *'"status":"stopped"'*) break;; esac
	sleep 0.5
done
expect "stopped" '"status":"stopped"' "$("$K" --root "$R" state "$ID")"
expect "kill of a stopped container" "container not running" "$("$K" --root "$R" kill "$ID" 2>&1)"
"$K" --root "$R" delete "$ID" || fail "delete"
expect "state after delete" "does not exist" "$("$K" --root "$R" state "$ID" 2>&1)"
"$K" --root "$R" delete --force "$ID" && ok "delete --force of a missing container" || fail "delete --force missing"

# run: the exit status comes back; nothing is left
python3 - "$W/b/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["process"]["args"] = ["sh", "-c", "echo ran; exit 3"]
json.dump(c, open(sys.argv[1], "w"))
PY
out=$("$K" --root "$R" run --bundle "$W/b" "${ID}r"); rc=$?
expect "run" "ran" "$out"
[ $rc = 3 ] && ok "run exit status" || fail "run exit status $rc"

# errors as callers read them
"$K" --root "$R" --log "$W/log.json" --log-format json state nosuch 2>/dev/null && fail "state of nosuch"
expect "json log" '{"level":"error","msg":"container \"nosuch\" does not exist","time":"' "$(cat "$W/log.json")"
expect "checkpoint" "checkpoint is not supported" "$("$K" checkpoint "$ID" 2>&1)"
"$K" checkpoint "$ID" 2>/dev/null; [ $? = 1 ] && ok "checkpoint status 1" || fail "checkpoint status"
expect "systemd-cgroup" "systemd cgroup manager is not supported" "$("$K" --systemd-cgroup list 2>&1)"
expect "bad config names the field" "process.args: missing" \
	"$(echo '{"ociVersion":"1.2.0","process":{"cwd":"/"},"root":{"path":"/"},"linux":{"namespaces":[{"type":"mount"}]}}' \
	> "$W/b/config.json"; "$K" --root "$R" create -b "$W/b" "${ID}x" 2>&1)"

# nothing left behind
[ -z "$(ls -A "$R" 2>/dev/null)" ] && ok "state root empty" || fail "left in $R: $(ls -A "$R")"
[ ! -e "$CG2/keel/$ID" ] && [ ! -e "$CG2/keel/${ID}r" ] && ok "cgroups removed" || fail "cgroups left"
[ $fails = 0 ]
