# Shared by the shell tests: each check prints "PASS name" or "FAIL name";
# tests/run.sh counts them. Source this, then call the checks.

T_FAILED=0

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1${2:+: $2}"; T_FAILED=$((T_FAILED + 1)); }

# expect NAME WANT_STATUS CMD...: runs CMD, checks its exit status.
expect_status() {
	local name=$1 want=$2
	shift 2
	"$@" >"$T_TMP/out" 2>"$T_TMP/err"
	local got=$?
	if [ "$got" -eq "$want" ]; then
		pass "$name"
	else
		fail "$name" "exit $got, expected $want; stderr: $(head -c 400 "$T_TMP/err")"
	fi
}

# Fails when the last command's stderr does not contain STRING.
expect_stderr_has() {
	if grep -qF -- "$2" "$T_TMP/err"; then pass "$1"; else
		fail "$1" "stderr lacks '$2': $(head -c 400 "$T_TMP/err")"; fi
}

expect_stdout_has() {
	if grep -qF -- "$2" "$T_TMP/out"; then pass "$1"; else
		fail "$1" "stdout lacks '$2': $(head -c 400 "$T_TMP/out")"; fi
}

t_setup() {
	T_TMP=$(mktemp -d /tmp/playnet-test.XXXXXX)
	trap 't_cleanup' EXIT
}

t_cleanup() {
	rm -rf "$T_TMP"
}

t_done() {
	[ "$T_FAILED" -eq 0 ]
}
