#!/usr/bin/env bash
# bench/cache-replay.sh — replays a scripted series of edits on bench/projects/app and prints, for
# tsbuild, BuildKit and `buildah bud --layers` side by side, each build's cache hits/steps and wall
# time, next to the optimum hit count (bench/cache-replay/scenarios.tsv). Run as root:
#   bench/cache-replay.sh [--builders tsbuild,buildkit,buildah] [--keep]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/peers.sh
. "$here/lib/peers.sh"

builders=tsbuild,buildkit,buildah
while [ $# -gt 0 ]; do
	case $1 in
	--builders) builders=${2:?}; shift ;;
	--builders=*) builders=${1#*=} ;;
	--keep) export BENCH_KEEP=1 ;;
	-h | --help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1" ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || die "run as root"
IFS=, read -r -a blist <<<"$builders"
bench_init

# The app, plus a build arg that only a late step sees (the "build-arg" scenario needs one).
ctx=$TSB_W/ctx/app
cp -a "$TSB_REPO/bench/projects/app" "$ctx"
awk '{ print } /^RUN sh scripts\/test.sh/ { print "ARG APP_VERSION=1"; print "RUN echo \"$APP_VERSION\" > /out/share/version" }' \
	"$TSB_REPO/bench/projects/app/Dockerfile" >"$ctx/Dockerfile"
build_args=()

edit_none() { :; }
edit_touch() { find "$ctx" -exec touch {} +; }
edit_src() { printf '# replay edit\ngreet_suffix() { echo "!"; }\n' >>"$ctx/src/lib/greet.sh"; }
# Bumps a package other than runtime-core, the one the final stage copies.
edit_manifest() { sed -i 's/^logger 4.1.0/logger 4.1.1/' "$ctx/deps.manifest"; }
edit_arg() { build_args=(--build-arg APP_VERSION=2); }
edit_last_line() { sed -i '$ s/"world"/"replay"/' "$ctx/Dockerfile"; }

# hits_steps BUILDER LOG — "hits/steps" over RUN/COPY/ADD steps in a build log.
hits_steps() {
	case $1 in
	tsbuild | buildkit)
		awk '
		match($0, /^#[0-9]+ \[[^]]*\] (RUN|COPY|ADD) /) { step[$1] = 1 }
		$2 == "CACHED" && ($1 in step) { hit[$1] = 1 }
		END { n = 0; h = 0; for (s in step) { n++; if (s in hit) h++ }; printf "%d/%d", h, n }' "$2"
		;;
	buildah)
		awk '
		# multi-stage output prefixes each step with "[stage/stages] "
		match($0, /STEP [0-9]+\/[0-9]+: [A-Z]+/) {
			cur = (substr($0, RSTART, RLENGTH) ~ /: (RUN|COPY|ADD)$/)
			if (cur) n++
		}
		/^--> Using cache/ && cur { h++; cur = 0 }
		END { printf "%d/%d", h, n }' "$2"
		;;
	esac
}

declare -A cell
scenarios=()
for b in "${blist[@]}"; do
	[ "$b" != tsbuild ] || tsbuild_available || die "tsbuild is not built (npm run build)"
	log "== $b: fresh store + base image"
	peer_reset "$b" >/dev/null
done
# Every builder builds the same context state, scenario after scenario.
log "== cold build (untimed baseline)"
for b in "${blist[@]}"; do
	peer_build "$b" replay:1 "$ctx/Dockerfile" "$ctx" >"$TSB_W/logs/$b-cold.log" 2>&1 </dev/null ||
		{ tail -20 "$TSB_W/logs/$b-cold.log" >&2; die "$b: cold build failed"; }
done
while IFS=$'\t' read -r name optimum edit; do
	[[ -z $name || $name == \#* ]] && continue
	scenarios+=("$name")
	cell[$name,optimum]=$optimum
	"$edit"
	for b in "${blist[@]}"; do
		logf=$TSB_W/logs/$b-$name.log
		: >"$logf"
		sync
		if time_ms "$logf" peer_build "$b" replay:1 "$ctx/Dockerfile" "$ctx" "${build_args[@]}"; then
			cell[$name,$b]="$(hits_steps "$b" "$logf") $TIME_MS"
		else
			cell[$name,$b]="FAIL $TIME_MS"
			tail -15 "$logf" | sed 's/^/    /' >&2
		fi
		log "  $name $b: ${cell[$name,$b]} ms"
	done
done <"$here/cache-replay/scenarios.tsv"

printf '\n%-22s %8s' scenario optimum
for b in "${blist[@]}"; do printf ' | %-18s' "$b hits  ms"; done
printf '\n'
for s in "${scenarios[@]}"; do
	printf '%-22s %8s' "$s" "${cell[$s,optimum]}/10"
	for b in "${blist[@]}"; do
		read -r hs ms <<<"${cell[$s,$b]}"
		printf ' | %-7s %10s' "$hs" "$ms"
	done
	printf '\n'
done
printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
