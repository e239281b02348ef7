# The few words the shell suites (test-examples.sh, test-rootless.sh) are
# written in. Source it after setting tap_name (the suite's name in SKIP
# lines) and tmp (a scratch directory for a command's stdout and stderr).
passed=0 failed=0 skipped=0

ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "FAIL - $1"; failed=$((failed + 1)); }
# skip PART REASON: a part this host cannot run, named in the log and counted
skip() { echo "SKIP: $tap_name/$1: $2"; skipped=$((skipped + 1)); }

# expect STATUS DESCRIPTION -- COMMAND...: run it, stdout in $tmp/out, stderr in $tmp/err
expect() {
	want=$1 desc=$2
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" = "$want" ]; then ok "$desc (status $got)"; else
		not_ok "$desc: status $got, wanted $want"; sed 's/^/  stderr: /' "$tmp/err"; fi
}
# has FILE TEXT: $tmp/FILE contains the text
has() {
	if grep -qF -- "$2" "$tmp/$1"; then ok "$1 says '$2'"; else
		not_ok "$1 lacks '$2'"; sed "s/^/  $1: /" "$tmp/$1"; fi
}
