#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Run each fuzz harness named on the command line for $FUZZ_SECONDS from its
# committed seed corpus, two at a time; fail if any found a crash, and say
# where its reproducer is.
set -u
: "${FUZZ_SECONDS:=55}" "${FUZZ_BUILD:=build/fuzz}" "${FUZZ_JOBS:=2}"
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$FUZZ_BUILD"
# Absolute: a harness may change directory (sftp works in an empty one).
FUZZ_BUILD=$(cd "$FUZZ_BUILD" && pwd)
mkdir -p "$FUZZ_BUILD/logs"

one() {
	name=$1
	work="$FUZZ_BUILD/corpus/$name"
	crashes="$FUZZ_BUILD/crashes/$name"
	mkdir -p "$work" "$crashes"
	# New inputs go to the work corpus; the committed seeds stay as they are.
	if "$FUZZ_BUILD/fuzz_$name" -max_total_time="$FUZZ_SECONDS" -timeout=25 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$crashes/" -print_final_stats=1 "$work" "$here/$name/corpus" \
		</dev/null >"$FUZZ_BUILD/logs/$name.log" 2>&1; then
		echo "fuzz $name: ok ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$FUZZ_BUILD/logs/$name.log" | grep -o '[0-9]*$') runs)"
	else
		echo "fuzz $name: FAILED; reproducer: $(ls "$crashes"/* 2>/dev/null | head -1)"
		echo "  run it again: $FUZZ_BUILD/fuzz_$name <reproducer>; log: $FUZZ_BUILD/logs/$name.log"
		tail -40 "$FUZZ_BUILD/logs/$name.log" | sed 's/^/  | /'
		return 1
	fi
}

fail=0
running=0
pids=""
for name in "$@"; do
	one "$name" &
	pids="$pids $!"
	running=$((running + 1))
	if [ "$running" -ge "$FUZZ_JOBS" ]; then
		for p in $pids; do wait "$p" || fail=1; done
		pids=""
		running=0
	fi
done
for p in $pids; do wait "$p" || fail=1; done
[ "$fail" = 0 ] && echo "fuzz: $# harnesses, no crash" || echo "fuzz: a harness failed (see above)"
exit "$fail"
