#!/usr/bin/env bash
# bench/build.sh — side-by-side build times of tsbuild, buildah and BuildKit.
# See bench/README.md. Run as root from anywhere:
#   bench/build.sh [--reps N] [--builders tsbuild,buildah,buildkit]
#                  [--no-steps | --steps-only] [--tsv FILE] [--keep] [CONTEXT...]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/peers.sh
. "$here/lib/peers.sh"

reps=1
builders=tsbuild,buildah,buildkit
do_builds=1
do_steps=1
tsv_out=
contexts=()

usage() {
	sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--reps)
		reps=${2:?--reps needs a number}
		shift
		;;
	--reps=*) reps=${1#*=} ;;
	--builders)
		builders=${2:?--builders needs a list}
		shift
		;;
	--builders=*) builders=${1#*=} ;;
	--no-steps) do_steps=0 ;;
	--steps-only) do_builds=0 ;;
	--tsv)
		tsv_out=${2:?--tsv needs a file}
		shift
		;;
	--tsv=*) tsv_out=${1#*=} ;;
	--keep) export BENCH_KEEP=1 ;;
	-h | --help) usage 0 ;;
	-*)
		log "unknown option $1"
		usage 2
		;;
	*) contexts+=("$1") ;;
	esac
	shift
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || die "--reps wants a positive integer"
[ "$(id -u)" = 0 ] || die "run as root"
IFS=, read -r -a builder_list <<<"$builders"
for b in "${builder_list[@]}"; do
	case $b in tsbuild | buildah | buildkit) ;; *) die "unknown builder $b" ;; esac
done
bench_init
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
if [[ ,$builders, == *,tsbuild,* ]] && ! tsbuild_available; then
	log "tsbuild: not built yet ($TSB_TSBUILD_BIN or $TSB_REPO/dist missing, or --help fails): column skipped"
fi

# ---------------------------------------------------------------- contexts

# compatible DOCKERFILE — true when BuildKit 0.8 and buildah 1.28 can build it
# here as tsbuild does: every FROM is scratch, $TSB_BASE_IMAGE or an earlier
# stage; every --from= names an earlier stage; no heredocs, no syntax directive.
compatible() {
	awk -v base="$TSB_BASE_IMAGE" '
	BEGIN { ok = 1; n = 0 }
	{ line = $0; sub(/^[ \t]+/, "", line); low = tolower(line) }
	low ~ /^#[ \t]*syntax[ \t]*=/ { ok = 0 }
	low ~ /^(run|copy|add)[ \t]/ && line ~ /<<-?[ \t]*["\047]?[A-Za-z_]/ { ok = 0 }
	tolower($1) == "from" {
		i = 2; while (i <= NF && $i ~ /^--/) i++
		img = $i
		if (img != "scratch" && img != base && !(tolower(img) in stage)) ok = 0
		if (tolower($(i + 1)) == "as") stage[tolower($(i + 2))] = 1
		stage[n++] = 1
	}
	{
		s = line
		while (match(s, /--from=[^ \t,]+/)) {
			ref = tolower(substr(s, RSTART + 7, RLENGTH - 7))
			if (!(ref in stage)) ok = 0
			s = substr(s, RSTART + RLENGTH)
		}
	}
	END { exit ok ? 0 : 1 }' "$1"
}

# rewrite_bootstrap < DOCKERFILE — replaces a stage that only bootstraps
# busybox from a named context (FROM scratch AS x; COPY --from=ctx busybox ...;
# RUN [... "--install" ...]) with "FROM $TSB_BASE_IMAGE AS x", so that the
# examples written for tsbuild build with BuildKit 0.8 too. Other stages pass.
rewrite_bootstrap() {
	awk -v base="$TSB_BASE_IMAGE" '
	function flush(i) {
		if (nbuf && boot && copyok && runok && !other) print "FROM " base " AS " bname
		else for (i = 1; i <= nbuf; i++) print buf[i]
		nbuf = 0
	}
	{
		low = tolower($0); sub(/^[ \t]+/, "", low); split(low, f, /[ \t]+/)
		if (cont) { }
		else if (f[1] == "from") {
			flush()
			boot = (f[2] == "scratch" && f[3] == "as" && f[4] != "")
			bname = $4; copyok = runok = other = 0
		} else if (boot && low != "" && low !~ /^#/) {
			if (f[1] == "copy" && low ~ /--from=/ && low ~ /busybox/) copyok = 1
			else if (f[1] == "run" && low ~ /--install/) runok = 1
			else other = 1
		}
		cont = (low ~ /\\$/)
		buf[++nbuf] = $0
	}
	END { flush() }'
}

if [ ${#contexts[@]} -eq 0 ]; then
	for d in "$TSB_REPO"/bench/projects/*/ "$TSB_REPO"/examples/*/; do
		d=${d%/}
		[ -f "$d/Dockerfile" ] || continue
		if rewrite_bootstrap <"$d/Dockerfile" | compatible /dev/stdin; then
			contexts+=("$d")
		else
			log "skip ${d#"$TSB_REPO"/}: needs features BuildKit 0.8 lacks (named contexts, heredocs, other bases)"
		fi
	done
fi

# label CONTEXT — a short name: relative to the repo, or the basename.
label() {
	local p
	p=$(cd "$1" && pwd)
	case $p in
	"$TSB_REPO"/bench/projects/*) echo "${p#"$TSB_REPO"/bench/projects/}" ;;
	"$TSB_REPO"/*) echo "${p#"$TSB_REPO"/}" ;;
	*) basename "$p" ;;
	esac
}

# edit_target LABEL — the file the "edit" scenario changes (bench/edits.conf).
edit_target() {
	[ -f "$here/edits.conf" ] || return 0
	awk -v l="$1" '$1 == l { print $2; exit }' "$here/edits.conf"
}

# ---------------------------------------------------------------- running

results=$TSB_W/results.tsv
: >"$results"

# fresh_copy SRC NAME — a private copy of a context (edits never touch the
# repo). A context's bench-generate.sh runs once, in a pristine copy kept in
# $TSB_W/src, to make files too big or many for the repo.
fresh_copy() {
	local pristine=$TSB_W/src/$2 dst=$TSB_W/ctx/$2
	if [ ! -d "$pristine" ]; then
		mkdir -p "$TSB_W/src"
		cp -a "$1" "$pristine"
		if [ -f "$pristine/bench-generate.sh" ]; then
			sh "$pristine/bench-generate.sh" >&2 || die "$1: bench-generate.sh failed"
		fi
	fi
	rm -rf "$dst"
	cp -a "$pristine" "$dst"
	printf '%s' "$dst"
}

# timed BUILDER KEY LOGNAME TAG DOCKERFILE CONTEXT [EXTRA...] — one timed build;
# prints ms (or FAIL) and records "KEY BUILDER value" in $results.
timed() {
	local b=$1 key=$2 logf=$TSB_W/logs/$3.log
	shift 3
	sync
	if time_ms "$logf" peer_build "$b" "$@"; then
		printf '%s\t%s\t%s\n' "$key" "$b" "$TIME_MS" >>"$results"
		log "  $b ${key/$'\t'/ }: ${TIME_MS} ms"
		return 0
	fi
	printf '%s\t%s\tFAIL\n' "$key" "$b" >>"$results"
	log "  $b ${key/$'\t'/ }: FAILED after ${TIME_MS} ms; end of $logf:"
	tail -15 "$logf" | sed 's/^/    /' >&2
	return 1
}

# bench_dockerfile DIR NAME — DIR/Dockerfile, or when rewrite_bootstrap
# changes it, the rewritten copy (outside the context, passed with -f).
bench_dockerfile() {
	local out=$TSB_W/ctx/$2.Dockerfile
	rewrite_bootstrap <"$1/Dockerfile" >"$out"
	if cmp -s "$out" "$1/Dockerfile"; then
		printf '%s' "$1/Dockerfile"
	else
		printf '%s' "$out"
	fi
}

record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$results"; }

bench_context() {
	local src=$1 name rep b dir df tag edit scen
	name=$(label "$src")
	edit=$(edit_target "$name")
	tag=bench-${name//[^a-z0-9]/-}:1
	for ((rep = 1; rep <= reps; rep++)); do
		log "== $name (rep $rep/$reps)"
		for b in "${builder_list[@]}"; do
			if [ "$b" = tsbuild ] && ! tsbuild_available; then
				for scen in cold warm ${edit:+edit}; do record "$name	$scen" "$b" skip; done
				continue
			fi
			dir=$(fresh_copy "$src" "${name//\//_}")
			if ! peer_reset "$b" >>"$TSB_W/logs/reset-$b.log" 2>&1; then
				log "  $b: could not set up storage + base image; end of log:"
				tail -15 "$TSB_W/logs/reset-$b.log" | sed 's/^/    /' >&2
				for scen in cold warm ${edit:+edit}; do record "$name	$scen" "$b" FAIL; done
				continue
			fi
			df=$(bench_dockerfile "$dir" "${name//\//_}")
			if timed "$b" "$name	cold" "${name//\//_}.$b.cold.$rep" "$tag" "$df" "$dir"; then
				timed "$b" "$name	warm" "${name//\//_}.$b.warm.$rep" "$tag" "$df" "$dir" || true
				if [ -n "$edit" ]; then
					[ -f "$dir/$edit" ] || die "edits.conf: $name: no file $edit"
					printf '\n# bench edit %s\n' "$(now_ns)" >>"$dir/$edit"
					timed "$b" "$name	edit" "${name//\//_}.$b.edit.$rep" "$tag" "$df" "$dir" || true
				fi
			else
				record "$name	warm" "$b" FAIL
				[ -z "$edit" ] || record "$name	edit" "$b" FAIL
			fi
			peer_release "$b"
		done
	done
}

# The builders take turns rep by rep (like the contexts above), so that a slow spell of this VM
# (its speed drifts by 1.5x over minutes) falls on all of them instead of on whoever ran then.
bench_steps() {
	local b rep one twenty ready=()
	one=$(fresh_copy "$here/one-step" one-step)
	twenty=$(fresh_copy "$here/twenty-steps" twenty-steps)
	for b in "${builder_list[@]}"; do
		if [ "$b" = tsbuild ] && ! tsbuild_available; then
			record "steps	1" "$b" skip
			record "steps	20" "$b" skip
			continue
		fi
		log "== per-step cost: $b"
		if ! peer_reset "$b" >>"$TSB_W/logs/reset-$b.log" 2>&1; then
			tail -15 "$TSB_W/logs/reset-$b.log" | sed 's/^/    /' >&2
			record "steps	1" "$b" FAIL
			record "steps	20" "$b" FAIL
			continue
		fi
		ready+=("$b")
	done
	# The resets above deleted each builder's stores of the context phase: tens of thousands of
	# inodes. This VM's ext4 has no journal, and each inode allocation then steps over every cached
	# inode freed in the last 30 s (recently_deleted()): creating files stays several times slower
	# for minutes, whoever creates them. Dropping the page cache (those inode table blocks) ends it;
	# the warm-up builds below then load every builder's binaries again.
	sync
	echo 1 >/proc/sys/vm/drop_caches
	# untimed warm-up: the base image is unpacked/loaded, caches are hot
	for b in "${ready[@]}"; do
		peer_build "$b" bench-steps:warmup "$one/Dockerfile" "$one" >>"$TSB_W/logs/steps.$b.warmup.log" 2>&1 || true
	done
	for ((rep = 1; rep <= reps; rep++)); do
		for b in "${ready[@]}"; do
			timed "$b" "steps	1" "steps.$b.1.$rep" bench-steps:1 "$one/Dockerfile" "$one" --no-cache || true
			timed "$b" "steps	20" "steps.$b.20.$rep" bench-steps:20 "$twenty/Dockerfile" "$twenty" --no-cache || true
		done
	done
	for b in "${ready[@]}"; do peer_release "$b"; done
}

# value KEY BUILDER — median over reps; FAIL if any rep failed; "-" if none.
value() {
	local vals
	vals=$(awk -F'\t' -v k="$1" -v b="$2" '$1 "\t" $2 == k && $3 == b { print $4 }' "$results")
	if [ -z "$vals" ]; then
		echo -
	elif grep -qx FAIL <<<"$vals"; then
		echo FAIL
	elif grep -qx skip <<<"$vals"; then
		echo skip
	else
		# shellcheck disable=SC2086
		median $vals
	fi
}

ratio() {
	if [[ $1 =~ ^[0-9]+$ && $2 =~ ^[1-9][0-9]*$ ]]; then
		awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
	else
		echo -
	fi
}

col() { if [[ ,$builders, == *,$1,* ]]; then value "$2" "$1"; else echo -; fi; }

report() {
	local key ts ba bk ctx scen one twenty
	echo
	echo "load average at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg) (2 vCPUs; compare ratios within one run)"
	if grep -qv '^steps' "$results"; then
		echo "Builds (ms, median of $reps; whole command incl. client/Node start-up)"
		printf '%-18s %-6s %9s %9s %9s %8s %8s\n' context scenario tsbuild buildah buildkit ts/bk ts/ba
	fi
	awk -F'\t' '$1 != "steps" && !seen[$1 "\t" $2]++ { print $1 "\t" $2 }' "$results" |
		while IFS=$'\t' read -r ctx scen; do
			key="$ctx	$scen"
			ts=$(col tsbuild "$key")
			ba=$(col buildah "$key")
			bk=$(col buildkit "$key")
			printf '%-18s %-6s %9s %9s %9s %8s %8s\n' "$ctx" "$scen" "$ts" "$ba" "$bk" \
				"$(ratio "$ts" "$bk")" "$(ratio "$ts" "$ba")"
		done
	if grep -q '^steps' "$results"; then
		echo
		echo "Per-step cost (--no-cache; ms, median of $reps): FROM $TSB_BASE_IMAGE + N x RUN echo"
		printf '%-9s %9s %9s %9s %11s\n' builder '1 step' '20 steps' 'total/20' 'marginal'
		for b in "${builder_list[@]}"; do
			one=$(value "steps	1" "$b")
			twenty=$(value "steps	20" "$b")
			if [[ $one =~ ^[0-9]+$ && $twenty =~ ^[0-9]+$ ]]; then
				printf '%-9s %9s %9s %9s %11s\n' "$b" "$one" "$twenty" \
					"$(awk -v t="$twenty" 'BEGIN { printf "%.1f", t / 20 }')" \
					"$(awk -v t="$twenty" -v o="$one" 'BEGIN { printf "%.1f", (t - o) / 19 }')"
			else
				printf '%-9s %9s %9s %9s %11s\n' "$b" "$one" "$twenty" - -
			fi
		done
		echo "(marginal = (20 steps - 1 step) / 19: the cost of one more RUN step)"
	fi
}

if [ "$do_builds" = 1 ]; then
	for c in "${contexts[@]}"; do
		[ -f "$c/Dockerfile" ] || die "$c: no Dockerfile"
		bench_context "$c"
	done
fi
[ "$do_steps" = 0 ] || bench_steps
report
if [ -n "$tsv_out" ]; then
	{
		printf 'context\tscenario\tbuilder\tms\n'
		cat "$results"
	} >"$tsv_out"
	log "raw results: $tsv_out"
fi
