#!/usr/bin/env bash
# bench/registry.sh — push and pull of a ~500 MB image against a local registry (docker-registry),
# tsbuild vs `skopeo copy` of the same image, in the same run. Read the ratios (NOTES: the VM drifts).
#   bench/registry.sh [--reps N]          (needs `npm run build` first)
# Each push goes to a fresh registry, so that neither tool can skip or mount blobs it pushed before.
set -euo pipefail
REPS=2
[ "${1:-}" = "--reps" ] && REPS=$2
REPO=$(cd "$(dirname "$0")/.." && pwd)
TSBUILD=${TSBUILD_BIN:-$REPO/bin/tsbuild}
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/tsbuild-regbench.XXXXXX")
REG_PID=
cleanup() {
	[ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# start_registry NAME — a fresh registry with its own storage; sets HOST and REG_PID.
start_registry() {
	stop_registry
	local dir=$W/reg-$1 port
	port=$(free_port)
	mkdir -p "$dir"
	cat >"$dir/config.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: 127.0.0.1:$port
YML
	/usr/bin/docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
	REG_PID=$!
	HOST=127.0.0.1:$port
	for _ in $(seq 200); do curl -fs "http://$HOST/v2/" >/dev/null 2>&1 && return; sleep 0.05; done
	echo "registry did not start" >&2
	exit 1
}
stop_registry() {
	if [ -n "$REG_PID" ]; then kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true; REG_PID=; fi
}

# timed VAR CMD... — wall time in ms into VAR.
timed() {
	local var=$1 t0 t1
	shift
	sync
	t0=$(date +%s%N)
	"$@" >>"$W/log" 2>&1 || { echo "failed: $*" >&2; tail -20 "$W/log" >&2; exit 1; }
	t1=$(date +%s%N)
	printf -v "$var" '%d' $(((t1 - t0) / 1000000))
}

echo "making the image (untimed)…" >&2
read -r DIGEST BYTES < <(node "$REPO/bench/registry/make-image.mjs" "$W/src" bench/img:1)
IMG=docker.io/bench/img:1
echo "image $DIGEST, $((BYTES / 1000000)) MB of layer blobs; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mbps() { awk -v b="$BYTES" -v ms="$1" 'BEGIN { printf "%.0f", b / 1000 / ms }'; }

printf '%-4s %-5s %10s %10s %8s %8s %7s\n' rep op tsbuild_ms skopeo_ms tsb_MB/s sko_MB/s ratio
for rep in $(seq "$REPS"); do
	start_registry "tsb-$rep"
	timed PUSH_T env TSBUILD_ROOT="$W/src" "$TSBUILD" push bench/img:1 "$HOST/bench/img:1"
	timed PULL_T env TSBUILD_ROOT="$W/pull-tsb-$rep" "$TSBUILD" pull "$HOST/bench/img:1"
	start_registry "sko-$rep"
	timed PUSH_S skopeo copy -q --dest-tls-verify=false "oci:$W/src:$IMG" "docker://$HOST/bench/img:1"
	timed PULL_S skopeo copy -q --src-tls-verify=false "docker://$HOST/bench/img:1" "oci:$W/pull-sko-$rep:img"
	stop_registry
	rm -rf "$W/pull-tsb-$rep" "$W/pull-sko-$rep" "$W"/reg-*
	printf '%-4s %-5s %10d %10d %8s %8s %7s\n' "$rep" push "$PUSH_T" "$PUSH_S" "$(mbps "$PUSH_T")" "$(mbps "$PUSH_S")" "$(ratio "$PUSH_S" "$PUSH_T")"
	printf '%-4s %-5s %10d %10d %8s %8s %7s\n' "$rep" pull "$PULL_T" "$PULL_S" "$(mbps "$PULL_T")" "$(mbps "$PULL_S")" "$(ratio "$PULL_S" "$PULL_T")"
done
echo "ratio = skopeo time / tsbuild time (>1: tsbuild faster); load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
