#!/usr/bin/env bash
# bench/limits.sh — what RUN resource limits cost per step: tsbuild without and with every limit flag,
# beside docker's classic builder without and with its limit flags (the builder that applies them:
# BuildKit ignores `docker build --memory`), and BuildKit as the usual reference. See bench/README.md.
# Run as root:
#   bench/limits.sh [--reps N] [--no-docker]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/peers.sh
. "$here/lib/peers.sh"

reps=5
use_docker=1
while [ $# -gt 0 ]; do
	case $1 in
	--reps)
		reps=${2:?--reps needs a number}
		shift
		;;
	--no-docker) use_docker=0 ;;
	-h | --help)
		sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown argument $1" ;;
	esac
	shift
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || die "--reps wants a positive integer"
[ "$(id -u)" = 0 ] || die "run as root"
bench_init
tsbuild_available || die "tsbuild: not built yet (npm run build)"

# Every limit at once, so that each RUN makes all its cgroups (memory, pids, cpuacct, cpu, cpuset,
# blkio) and writes every file; the values bound nothing these trivial steps do.
TS_LIMITS=(--memory 512m --memory-swap 1g --cpus 1.5 --cpu-shares 512 --cpuset-cpus 0-1
	--pids-limit 1000 --blkio-weight 500 --ulimit nofile=1024:2048 --shm-size 32m)
# The classic builder's equivalents (it has no --cpus or --pids-limit, and no --blkio-weight).
DK_LIMITS=(--memory 512m --memory-swap 1g --cpu-period 100000 --cpu-quota 150000 --cpu-shares 512
	--cpuset-cpus 0-1 --ulimit nofile=1024:2048 --shm-size 32m)

classic_build() { DOCKER_BUILDKIT=0 "$TSB_DOCKER_BIN" -H "$TSB_DOCKER_HOST" build --network=host "$@"; }

variants=(ts-plain ts-limits)
log "== tsbuild: fresh store with the base image"
tsbuild_reset || die "tsbuild reset failed"
if [ "$use_docker" = 1 ]; then
	log "== dockerd: fresh data root with the base image"
	if docker_reset >>"$TSB_W/logs/reset-docker.log" 2>&1; then
		variants+=(classic-plain classic-limits buildkit)
	else
		tail -5 "$TSB_W/logs/reset-docker.log" >&2
		log "dockerd not available: docker columns skipped"
	fi
fi

# build VARIANT DIR — one --no-cache build of DIR's Dockerfile.
build() {
	local v=$1 dir=$2
	case $v in
	ts-plain) tsbuild_build bench-limits "$dir/Dockerfile" "$dir" --no-cache ;;
	ts-limits) tsbuild_build bench-limits "$dir/Dockerfile" "$dir" --no-cache "${TS_LIMITS[@]}" ;;
	classic-plain) classic_build --no-cache -t bench-limits -f "$dir/Dockerfile" "$dir" ;;
	classic-limits) classic_build --no-cache -t bench-limits -f "$dir/Dockerfile" "${DK_LIMITS[@]}" "$dir" ;;
	buildkit) docker_build bench-limits "$dir/Dockerfile" "$dir" --no-cache ;;
	esac
}

one=$TSB_W/ctx/one-step twenty=$TSB_W/ctx/twenty-steps
cp -a "$here/one-step" "$one"
cp -a "$here/twenty-steps" "$twenty"
for v in "${variants[@]}"; do
	build "$v" "$one" >>"$TSB_W/logs/warmup.$v.log" 2>&1 || {
		tail -10 "$TSB_W/logs/warmup.$v.log" >&2
		die "$v: warm-up build failed"
	}
done

declare -A t1 t20
for ((rep = 1; rep <= reps; rep++)); do
	for v in "${variants[@]}"; do
		for n in 1 20; do
			dir=$one
			[ "$n" = 20 ] && dir=$twenty
			sync
			time_ms "$TSB_W/logs/$v.$n.$rep.log" build "$v" "$dir" || die "$v: build failed (log: $TSB_W/logs/$v.$n.$rep.log)"
			if [ "$n" = 1 ]; then t1[$v]+="$TIME_MS "; else t20[$v]+="$TIME_MS "; fi
		done
	done
	log "rep $rep/$reps done"
done

printf '%s reps, load %s\n' "$reps" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-15s %8s %9s %10s\n' variant "1 step" "20 steps" "per RUN"
declare -A per
for v in "${variants[@]}"; do
	# shellcheck disable=SC2086 # lists of numbers
	a=$(median ${t1[$v]}) b=$(median ${t20[$v]})
	per[$v]=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", (b - a) / 19 }')
	printf '%-15s %8d %9d %10s\n' "$v" "$a" "$b" "${per[$v]}"
done
awk -v p="${per[ts-plain]}" -v l="${per[ts-limits]}" \
	'BEGIN { printf "tsbuild: limits add %.1f ms per RUN\n", l - p }'
if [ -n "${per[classic-plain]:-}" ]; then
	awk -v p="${per[classic-plain]}" -v l="${per[classic-limits]}" -v t="${per[ts-limits]}" -v k="${per[buildkit]}" \
		'BEGIN { printf "classic builder: limits add %.1f ms per RUN; tsbuild with limits / classic with limits: %.2f, / BuildKit: %.2f\n", l - p, t / l, t / k }'
fi
