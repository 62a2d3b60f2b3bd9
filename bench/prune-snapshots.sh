#!/usr/bin/env bash
# bench/prune-snapshots.sh — how long `tsbuild prune --all` takes to empty a store of N committed
# snapshots (default 2000), in chains of 10, each named by a cache record. Prints the wall time of
# each of 3 runs and their median; the store is rebuilt before each run. Run as root, after
# `npm run build`:
#   bench/prune-snapshots.sh [N]
# TSBUILD_REPO=DIR times another checkout's dist/ and bin/ (e.g. an older commit, for a before/after).
set -euo pipefail
N=${1:-2000}
RUNS=3
REPO=${TSBUILD_REPO:-$(cd "$(dirname "$0")/.." && pwd)}
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/tsbuild-prunebench.XXXXXX")
trap '[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$W"' EXIT
die() {
	echo "prune-snapshots: $*" >&2
	exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# count DIR REGEX — entries of DIR whose name matches REGEX.
count() { find "$1" -mindepth 1 -maxdepth 1 -regextype posix-extended -regex ".*/$2" | wc -l; }

echo "$N snapshots, $RUNS runs, $REPO; load $(cut -d' ' -f1-3 /proc/loadavg)"
times=()
for run in $(seq "$RUNS"); do
	store=$W/store-$run
	t0=$(now_ms)
	node "$REPO/bench/prune-snapshots/make-store.mjs" "$REPO" "$store" "$N"
	made=$(($(now_ms) - t0))
	[ "$(count "$store/snapshots/records" '.*\.json')" = "$N" ] || die "the store does not hold $N snapshots"
	sync # outside the timing: the store's own writes are not the prune's
	t0=$(now_ms)
	out=$(TSBUILD_ROOT=$store "$REPO/bin/tsbuild" prune --all)
	ms=$(($(now_ms) - t0))
	case $out in
	"removed $N cache records (0 kept), 0 cache mounts"*", $N snapshots "*) ;;
	*) die "unexpected report: $out" ;;
	esac
	left=$(($(count "$store/snapshots/records" '.*\.json') + $(count "$store/snapshots" '[0-9a-f]{12}')))
	[ "$left" = 0 ] || die "$left records or snapshot dirs left after the prune"
	printf 'run %d: prune %6d ms   (making the store: %d ms)\n' "$run" "$ms" "$made"
	times+=("$ms")
	rm -rf "$store"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
echo "median prune --all of $N snapshots: $median ms"
