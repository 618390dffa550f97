# SPDX-License-Identifier: Apache-2.0
# porthole.sh — porthole helpers for a SageMaker `train` script.
#
# Source it from the train script (bash or any POSIX sh, e.g. dash):
#
#     . /usr/share/porthole/porthole.sh   # the packages; make install: PREFIX/share/porthole
#     porthole_start                      # no-op when porthole is the ENTRYPOINT
#     ... prepare data ...
#     porthole_breakpoint after-data 30m  # pause until `porthole continue after-data`
#     python train.py
#     status=$?
#     porthole_hold_here 1h               # keep the container for debugging
#     porthole_stop
#     exit $status
#
# Rules every function keeps:
#   * it returns 0, always: the training must never fail because of porthole.
#     When porthole is missing or not running it says so in one line on
#     stderr and the script goes on;
#   * it is safe under `set -e` and `set -u`;
#   * it defines no variables but ones named porthole_* or _porthole_*, and
#     exports nothing (porthole reads PORTHOLE_* from the environment and
#     warns about names it does not know).
#
# The porthole binary is $PORTHOLE_BIN when set, else `porthole` on PATH.
# Which porthole the functions talk to is decided by porthole itself, from
# PORTHOLE_CONTROL_SOCKET, the conf file or the default
# /run/porthole/control.sock; settings for a porthole started here come from
# the same places (PORTHOLE_* environment, porthole_* hyperparameters ...).
#
# Written for POSIX sh: no `local`, no arrays, no [[ ]]; checked with
# `shellcheck -s sh`, `dash -n` and tests/lifecycle/.

# porthole_started_pid: the pid of the `porthole serve` that porthole_start
# started, or empty.  Read it if you like; porthole_stop uses it.
porthole_started_pid=${porthole_started_pid:-}

# _porthole_say MESSAGE... — one line on stderr.
_porthole_say() {
	printf 'porthole.sh: %s\n' "$*" >&2
	return 0
}

# _porthole_find_bin — set _porthole_bin to the porthole binary; return 1
# (saying nothing) if there is none.
_porthole_find_bin() {
	_porthole_bin=
	if [ -n "${PORTHOLE_BIN:-}" ]; then
		if [ -f "$PORTHOLE_BIN" ] && [ -x "$PORTHOLE_BIN" ]; then
			_porthole_bin=$PORTHOLE_BIN
			return 0
		fi
		_porthole_why="PORTHOLE_BIN=$PORTHOLE_BIN is not an executable file"
		return 1
	fi
	if _porthole_bin=$(command -v porthole 2>/dev/null) && [ -n "$_porthole_bin" ]; then
		return 0
	fi
	_porthole_bin=
	_porthole_why="porthole not found (set PORTHOLE_BIN or put porthole on PATH)"
	return 1
}

# _porthole_answers — true if a porthole answers on the control socket.
_porthole_answers() {
	"$_porthole_bin" status >/dev/null 2>&1
}

# _porthole_alive PID — true if PID runs (a zombie does not count).
_porthole_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	if [ -r "/proc/$1/stat" ]; then
		# "PID (comm) STATE ...": porthole's comm has no spaces.
		_porthole_state=
		read -r _porthole_x _porthole_x _porthole_state _porthole_x <"/proc/$1/stat" 2>/dev/null || :
		[ "$_porthole_state" = Z ] && return 1
	fi
	return 0
}

# _porthole_nap — sleep about 0.1 s; sets _porthole_step to the tenths
# actually slept (sleep(1) need not take fractions).
_porthole_nap() {
	_porthole_step=1
	if ! sleep 0.1 2>/dev/null; then
		sleep 1
		_porthole_step=10
	fi
	return 0
}

# porthole_start
#   Start `porthole serve` in the background, for a train script that is the
#   ENTRYPOINT itself (rather than `porthole run -- train`).  Does nothing
#   when a porthole already answers on the control socket (porthole is the
#   ENTRYPOINT, or porthole_start ran before), so calling it twice starts
#   one porthole.  Waits up to 5 s for it to answer `porthole status`.
#   porthole serve keeps the script's stdout and stderr (its ready record
#   goes to the job's log, on stderr) but is not a child of the script: a bare `wait` in the
#   script does not wait for it.  Stop it with porthole_stop; when the
#   container ends it ends too.
#   If porthole is missing or does not come up: one message on stderr, and
#   the script goes on.  Returns 0.
porthole_start() {
	if ! _porthole_find_bin; then
		_porthole_say "$_porthole_why; training goes on without porthole"
		return 0
	fi
	if _porthole_answers; then
		return 0
	fi
	if [ -n "$porthole_started_pid" ] && _porthole_alive "$porthole_started_pid"; then
		_porthole_say "porthole (pid $porthole_started_pid) was started already but does not answer on" \
			"${PORTHOLE_CONTROL_SOCKET:-its control socket}; not starting another"
		return 0
	fi
	# Double fork, so the script's own `wait` never waits for porthole: the
	# inner shell prints the pid and exits, porthole keeps the script's
	# stdout/stderr (fds 3 and 4 here) and stdin from /dev/null.
	# PORTHOLE_BIN is this library's, not a porthole setting: porthole would
	# warn about it as an unknown PORTHOLE_* variable.
	porthole_started_pid=
	{
		porthole_started_pid=$(
			unset PORTHOLE_BIN
			"$_porthole_bin" serve </dev/null >&3 2>&4 3>&- 4>&- &
			echo $!
		)
	} 3>&1 4>&2
	if [ -z "$porthole_started_pid" ]; then
		_porthole_say "could not start $_porthole_bin serve; training goes on without porthole"
		return 0
	fi
	_porthole_tenths=0
	while [ "$_porthole_tenths" -lt 50 ]; do
		if _porthole_answers; then
			return 0
		fi
		if ! _porthole_alive "$porthole_started_pid"; then
			_porthole_say "$_porthole_bin serve exited at once (see its messages above);" \
				"training goes on without porthole"
			porthole_started_pid=
			return 0
		fi
		_porthole_nap
		_porthole_tenths=$((_porthole_tenths + _porthole_step))
	done
	_porthole_say "porthole serve (pid $porthole_started_pid) does not answer on" \
		"${PORTHOLE_CONTROL_SOCKET:-/run/porthole/control.sock} after 5s; training goes on," \
		"breakpoints and holds may be skipped"
	return 0
}

# porthole_breakpoint NAME [TIMEOUT]
#   Pause the script here until `porthole continue NAME` (or `porthole
#   continue`, or `porthole release`), or until TIMEOUT (a duration such as
#   90s, 30m, 1h30m; default: porthole's window) has passed.  NAME may be
#   empty ("") for an unnamed breakpoint.  When porthole is not running or
#   not installed, or the breakpoint cannot be set, it says so and the script
#   goes on at once.  After `porthole release` breakpoints no longer pause.
#   Returns 0.
porthole_breakpoint() {
	_porthole_name=${1:-}
	_porthole_timeout=${2:-}
	if ! _porthole_find_bin; then
		_porthole_say "breakpoint ${_porthole_name:-(unnamed)} skipped: $_porthole_why"
		return 0
	fi
	_porthole_rc=0
	if [ -n "$_porthole_name" ] && [ -n "$_porthole_timeout" ]; then
		"$_porthole_bin" breakpoint "$_porthole_name" --timeout "$_porthole_timeout" || _porthole_rc=$?
	elif [ -n "$_porthole_name" ]; then
		"$_porthole_bin" breakpoint "$_porthole_name" || _porthole_rc=$?
	elif [ -n "$_porthole_timeout" ]; then
		"$_porthole_bin" breakpoint --timeout "$_porthole_timeout" || _porthole_rc=$?
	else
		"$_porthole_bin" breakpoint || _porthole_rc=$?
	fi
	if [ "$_porthole_rc" -ne 0 ]; then
		_porthole_say "breakpoint ${_porthole_name:-(unnamed)} skipped (porthole exit status $_porthole_rc," \
			"see above); the script goes on"
	fi
	return 0
}

# porthole_hold_here [WINDOW]
#   Hold here, at the end of the script, until `porthole release` or until
#   WINDOW (default: porthole's window) has passed; sessions (`porthole
#   attach`, later SSH) keep it open the way they keep any hold open.  Call
#   it after the training, to keep the container for debugging whatever the
#   outcome (keep the training's exit status first:
#   `python train.py; status=$?; porthole_hold_here; exit $status`).  When
#   porthole is not running or not installed it says so and returns at once.
#   Returns 0.
porthole_hold_here() {
	_porthole_window=${1:-}
	if ! _porthole_find_bin; then
		_porthole_say "hold skipped: $_porthole_why"
		return 0
	fi
	_porthole_rc=0
	if [ -n "$_porthole_window" ]; then
		"$_porthole_bin" hold --window "$_porthole_window" || _porthole_rc=$?
	else
		"$_porthole_bin" hold || _porthole_rc=$?
	fi
	if [ "$_porthole_rc" -ne 0 ]; then
		_porthole_say "hold skipped (porthole exit status $_porthole_rc, see above); the script goes on"
	fi
	return 0
}

# porthole_stop
#   Stop the porthole that porthole_start started (SIGTERM to its recorded
#   pid, then up to 5 s for it to exit, then SIGKILL).  Does nothing when
#   porthole_start started none (porthole is the ENTRYPOINT, was already
#   running, or is missing).  Returns 0.
porthole_stop() {
	if [ -z "$porthole_started_pid" ]; then
		return 0
	fi
	_porthole_pid=$porthole_started_pid
	porthole_started_pid=
	kill -TERM "$_porthole_pid" 2>/dev/null || :
	_porthole_tenths=0
	while _porthole_alive "$_porthole_pid"; do
		if [ "$_porthole_tenths" -ge 50 ]; then
			_porthole_say "porthole (pid $_porthole_pid) did not stop within 5s of SIGTERM; killing it"
			kill -KILL "$_porthole_pid" 2>/dev/null || :
			break
		fi
		_porthole_nap
		_porthole_tenths=$((_porthole_tenths + _porthole_step))
	done
	return 0
}
