#!/bin/bash
# SPDX-License-Identifier: ISC
# Run libFuzzer targets built by `make fuzz-build` (build/fuzz/fuzz_NAME),
# JOBS at a time, each from tests/fuzz/fuzz_NAME.seeds/:
#   scripts/fuzz.sh ci   SECONDS JOBS TARGET...   (make fuzz-ci, CI)
#       a fresh corpus each run: the seeds are read, never written
#   scripts/fuzz.sh long SECONDS JOBS TARGET...   (make fuzz)
#       build/fuzz/NAME.corpus/ keeps what each run finds, for the next
# Each target is one pass or one failure: it failed if libFuzzer stopped
# on a crash, a leak, a timeout (10 s an input) or an out-of-memory, or
# if its seeds are missing.  The crashing input is kept as
# build/fuzz/NAME.crash-* (or leak-, timeout-, oom-) and the line to
# replay it is printed.  Logs: build/fuzz/NAME.log.  Ends with one line
# "N passed, N failed"; exits 1 when a target failed.
set -u
cd "$(dirname "$0")/.."

mode=${1:-}
secs=${2:-}
jobs=${3:-}
if [ $# -lt 4 ] || { [ "$mode" != ci ] && [ "$mode" != long ]; } ||
   ! [ "$secs" -gt 0 ] 2>/dev/null || ! [ "$jobs" -gt 0 ] 2>/dev/null; then
	echo "usage: $0 ci|long SECONDS JOBS TARGET..." >&2
	exit 2
fi
shift 3

# one target: its result in build/fuzz/NAME.result ("ok ..." or "FAILED ...")
one() {
	local bin=$1 n corpus seeds log res art
	n=$(basename "$bin")
	seeds=tests/fuzz/$n.seeds
	log=build/fuzz/$n.log
	res=build/fuzz/$n.result
	if [ ! -x "$bin" ]; then
		echo "FAILED: $bin is not built" >"$res"
		return
	fi
	if [ -z "$(ls -A "$seeds" 2>/dev/null)" ]; then
		echo "FAILED: no seeds in $seeds" >"$res"
		return
	fi
	if [ "$mode" = ci ]; then
		corpus=build/fuzz/$n.ci-corpus
		rm -rf "$corpus"
	else
		corpus=build/fuzz/$n.corpus
	fi
	mkdir -p "$corpus"
	# what this run saves is newer than this (older findings are kept)
	touch "build/fuzz/$n.started"
	# -timeout: an input that takes 10 s is a hang; -rss_limit_mb: a
	# target that grows past 2 GB is a leak or an unbounded allocation
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="build/fuzz/$n." \
		"$corpus" "$seeds" >"$log" 2>&1 </dev/null
	local rc=$?
	art=$(find build/fuzz -maxdepth 1 -newer "build/fuzz/$n.started" \
		\( -name "$n.crash-*" -o -name "$n.leak-*" -o -name "$n.timeout-*" \
		-o -name "$n.oom-*" \) | head -1)
	if [ $rc -eq 0 ] && [ -z "$art" ]; then
		echo "ok: $(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1) runs," \
			"cov $(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)," \
			"$(find "$corpus" -type f | wc -l) inputs in the corpus" >"$res"
	else
		{
			echo "FAILED (exit $rc): ${art:-no input saved}"
			[ -n "$art" ] && echo "    replay: $bin $art"
			grep -E '^==[0-9]+==ERROR|SUMMARY:|runtime error:|^fuzz_[a-z_]*:|ALARM|out-of-memory' \
				"$log" | head -8 | sed 's/^/    /'
		} >"$res"
		[ "$mode" = ci ] && rm -rf "$corpus"
		return
	fi
	[ "$mode" = ci ] && rm -rf "$corpus"
}

mkdir -p build/fuzz
running=0
for bin in "$@"; do
	rm -f "build/fuzz/$(basename "$bin").result"
	one "$bin" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

# a target that crashed could not remove its scratch files: directories
# fuzz_NAME.PID, files fuzz_NAME.PID.work, of processes now gone
for d in /dev/shm/fuzz_* /tmp/fuzz_*; do
	[ -e "$d" ] || continue
	pid=${d%.work}
	pid=${pid##*.}
	case $pid in ''|*[!0-9]*) continue ;; esac
	kill -0 "$pid" 2>/dev/null || rm -rf "$d"
done

pass=0 fail=0
for bin in "$@"; do
	n=$(basename "$bin")
	res=build/fuzz/$n.result
	[ -s "$res" ] || echo "FAILED: no result (see build/fuzz/$n.log)" >"$res"
	printf '%-40s %s\n' "fuzz/$n" "$(head -1 "$res")"
	tail -n +2 "$res"
	if head -1 "$res" | grep -q '^ok'; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
