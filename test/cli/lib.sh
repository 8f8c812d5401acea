# test/cli/lib.sh: what the test/cli scripts share, sourced after they set W (their work
# directory, removed at exit): the processes they start (PIDS, killed at exit), ok/bad and the
# count of failures (nfail, FAILED), run (a command's exit status and output), waitfor, gone,
# reap, start (a background task of its own, a child of the script).
# shellcheck shell=bash
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT
nfail=0
ok() { echo "ok   $1"; }
FAILED=()
bad() {
	echo "FAIL $1"
	[ -n "${2:-}" ] && sed 's/^/       | /' <<<"$2"
	nfail=$((nfail + 1))
	FAILED+=("$1")
}

# run NAME WANT_RC REGEX CMD...: the command's exit status is WANT_RC and its stdout+stderr
# match REGEX (grep -E); "!REGEX" means it must not match.
run() {
	local name=$1 want=$2 re=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" != "$want" ]; then
		bad "$name: exit $rc, expected $want" "$out"
	elif [[ $re == !* ]] && grep -qE -- "${re:1}" <<<"$out"; then
		bad "$name: output matches /${re:1}/" "$out"
	elif [[ $re != !* ]] && ! grep -qE -- "$re" <<<"$out"; then
		bad "$name: output lacks /$re/" "$out"
	else
		ok "$name"
	fi
}

# waitfor COND: until the shell condition COND holds, for at most 2 minutes (a loaded machine
# may take seconds; what follows checks the state and fails with what it saw)
waitfor() {
	local _
	for _ in $(seq 6000); do eval "$1" && return 0; sleep 0.02; done
	return 1
}

# gone PID: no such process, or a zombie left to whatever reaps orphans here (under make test a
# subreaper, which may take its time: /proc/PID stays meanwhile)
gone() { case "$(awk '/^State/{print $2}' "/proc/$1/status" 2>/dev/null)" in "" | Z) return 0 ;; esac; return 1; }

# End background task $1 (if it is not dead already) and reap it.
reap() {
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# A background task with no fd but /dev/null (nothing shared with us), in its own session, a
# child of this shell (not of a subshell: it reaps what a dump kills) once it has exec'd: $p.
start() {
	# every fd above 2 closed: one the caller inherited (a pipe of a CI harness) would make the
	# dump refuse the task (a pipe open outside the tree)
	setsid bash -c 'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"
		done 2>/dev/null; exec "$@"' _ "$@" </dev/null >/dev/null 2>&1 &
	p=$!
	PIDS+=("$p")
	# no time limit: on a loaded machine an exec may take seconds; until then the exe is setsid's
	# or bash's (a command that is itself a bash script, the ghost case, waits on its own)
	while ! gone "$p" && case "$(readlink "/proc/$p/exe" 2>/dev/null)" in
		"" | "$(readlink /proc/$$/exe)" | "$(readlink -f "$(command -v setsid)")") true ;;
		*) false ;; esac; do sleep 0.02; done
}

