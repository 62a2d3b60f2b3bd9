# shellcheck shell=bash
# bench/lib/peers.sh — private, throw-away stores for tsbuild, buildah and
# BuildKit (docker 20.10's engine), plus timing helpers. Sourced by
# bench/build.sh; call bench_init first (it installs the cleanup trap).
#
# Everything lives under one work dir, $TSB_W (mktemp under ${BENCH_DIR:-/tmp}):
#   $TSB_W/base/rootfs.tar      busybox rootfs shared by buildah and BuildKit
#   $TSB_W/docker/{data,exec}   private dockerd (socket /run/tsbench-docker.sock)
#   $TSB_W/buildah/{root,run}   buildah storage (overlay driver, chroot isolation)
#   $TSB_W/tsbuild/root         $TSBUILD_ROOT
#   $TSB_W/ctx/                 copies of the build contexts (edits go there)
#   $TSB_W/logs/                one log per build
# On exit: dockerd (and its containerd) stopped, mounts under $TSB_W
# unmounted, $TSB_W removed (kept with BENCH_KEEP=1).

TSB_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TSB_BASE_IMAGE=${TSB_BASE_IMAGE:-bench/busybox:1}
TSB_PATH_ENV=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
TSB_DOCKER_BIN=/usr/bin/docker # /usr/local/bin/docker is a newer client that wants buildx
TSB_DOCKER_HOST=unix:///run/tsbench-docker.sock
TSB_DOCKER_NETWORK=${BENCH_DOCKER_NETWORK:-host} # RUN network; the default "bridge" does not exist with --bridge=none
TSB_TSBUILD_BIN=${TSBUILD_BIN:-$TSB_REPO/bin/tsbuild}
TSB_W=
TSB_DOCKERD_PID=
TSB_RUN_DOCKER_MADE=0
TIME_MS=0

log() { printf '%s\n' "$*" >&2; }
die() {
	log "bench: $*"
	exit 1
}

# ---------------------------------------------------------------- timing

now_ns() { date +%s%N; }

# time_ms LOGFILE CMD... — run CMD with its output appended to LOGFILE; the
# wall time in ms goes to $TIME_MS; returns CMD's status.
time_ms() {
	local logf=$1 start end rc=0
	shift
	start=$(now_ns)
	"$@" >>"$logf" 2>&1 </dev/null || rc=$?
	end=$(now_ns)
	# shellcheck disable=SC2034 # read by the caller
	TIME_MS=$(((end - start) / 1000000))
	return "$rc"
}

# median N... — median of integers (lower middle for an even count).
median() {
	printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END{if (NR) print v[int((NR+1)/2)]}'
}

# ---------------------------------------------------------------- work dir

bench_init() {
	local parent=${BENCH_DIR:-/tmp}
	mkdir -p "$parent"
	TSB_W=$(mktemp -d "$parent/tsbench.XXXXXX")
	mkdir -p "$TSB_W/logs" "$TSB_W/ctx"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# unmount_under DIR — unmount everything mounted at or below DIR, deepest first.
unmount_under() {
	local dir=$1 m
	[ -n "$dir" ] || return 0
	awk -v d="$dir" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/mounts |
		sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "bench: cannot unmount $m"
	done
}

bench_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	docker_stop
	if [ -n "$TSB_W" ] && [ -d "$TSB_W" ]; then
		unmount_under "$TSB_W"
		if [ "${BENCH_KEEP:-0}" = 1 ]; then
			log "bench: kept $TSB_W"
		else
			rm -rf "$TSB_W"
		fi
	fi
	exit "$rc"
}

# reset_dir DIR — unmount anything below DIR, then make it empty.
reset_dir() {
	unmount_under "$1"
	rm -rf "$1"
	mkdir -p "$1"
}

# ---------------------------------------------------------------- base image

# The same busybox rootfs for every builder: busybox + `--install -s /bin`
# symlinks, /etc/passwd, /etc/group, /root, /tmp (1777). bench/base/Dockerfile
# makes the same tree for tsbuild.
base_rootfs_tar() {
	local r=$TSB_W/base/rootfs
	[ -f "$TSB_W/base/rootfs.tar" ] && return 0
	reset_dir "$r"
	mkdir -p "$r/bin" "$r/etc" "$r/root" "$r/tmp"
	cp /bin/busybox "$r/bin/busybox"
	chroot "$r" /bin/busybox --install -s /bin
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
	chmod 1777 "$r/tmp"
	tar --numeric-owner --owner=0 --group=0 -C "$r" -cf "$TSB_W/base/rootfs.tar" .
}

# ---------------------------------------------------------------- BuildKit (private dockerd)

docker_cmd() { DOCKER_BUILDKIT=1 "$TSB_DOCKER_BIN" -H "$TSB_DOCKER_HOST" "$@"; }

docker_start() {
	local d=$TSB_W/docker sock=${TSB_DOCKER_HOST#unix://} i
	if [ -S "$sock" ]; then
		if docker_cmd info >/dev/null 2>&1; then
			log "bench: a dockerd already answers on $sock (another bench run?)"
			return 1
		fi
		rm -f "$sock"
	fi
	mkdir -p "$d/data" "$d/exec" "$d/tmp"
	# deprecated-key-path (a config-file key only) keeps dockerd from writing
	# /etc/docker/key.json
	printf '{ "deprecated-key-path": "%s/key.json" }\n' "$d" >"$d/daemon.json"
	TSB_RUN_DOCKER_MADE=1
	if [ -d /run/docker ]; then TSB_RUN_DOCKER_MADE=0; fi
	# no bridge, no iptables, no ip_forward sysctl: nothing outside $d.
	# TMPDIR: containerd drops goroutine dumps (containerd.PID.stacks.log) there
	TMPDIR=$d/tmp dockerd --config-file "$d/daemon.json" \
		--data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/dockerd.pid" \
		-H "$TSB_DOCKER_HOST" \
		--iptables=false --ip6tables=false --ip-masq=false --ip-forward=false \
		--bridge=none --storage-driver overlay2 \
		>>"$d/dockerd.log" 2>&1 </dev/null &
	TSB_DOCKERD_PID=$!
	for ((i = 0; i < 300; i++)); do
		docker_cmd info >/dev/null 2>&1 && return 0
		kill -0 "$TSB_DOCKERD_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -20 "$d/dockerd.log" >&2
	log "bench: dockerd did not come up (log above)"
	return 1
}

docker_stop() {
	local d=$TSB_W/docker pid i cpid
	pid=$TSB_DOCKERD_PID
	[ -n "$pid" ] || return 0
	TSB_DOCKERD_PID=
	cpid=$(cat "$d/exec/containerd/containerd.pid" 2>/dev/null || true)
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	# dockerd stops the containerd it started; make sure, by its pid file.
	if [ -n "$cpid" ] && kill -0 "$cpid" 2>/dev/null &&
		grep -q containerd "/proc/$cpid/comm" 2>/dev/null; then
		kill -TERM "$cpid" 2>/dev/null || true
		sleep 1
		kill -KILL "$cpid" 2>/dev/null || true
	fi
	rm -f "${TSB_DOCKER_HOST#unix://}"
	if [ "$TSB_RUN_DOCKER_MADE" = 1 ]; then
		rmdir /run/docker/plugins /run/docker 2>/dev/null || true
	fi
	unmount_under "$d"
}

# fresh storage + the base image
docker_reset() {
	docker_stop
	reset_dir "$TSB_W/docker"
	docker_start || return 1
	base_rootfs_tar
	docker_cmd import -c "ENV PATH=$TSB_PATH_ENV" -c 'CMD ["/bin/sh"]' \
		"$TSB_W/base/rootfs.tar" "$TSB_BASE_IMAGE" >/dev/null
}

# docker_build TAG DOCKERFILE CONTEXT [EXTRA...]
docker_build() {
	local tag=$1 file=$2 ctx=$3
	shift 3
	docker_cmd build --progress=plain --network="$TSB_DOCKER_NETWORK" -t "$tag" -f "$file" "$@" "$ctx"
}

# ---------------------------------------------------------------- buildah

buildah_cmd() {
	buildah --root "$TSB_W/buildah/root" --runroot "$TSB_W/buildah/run" \
		--storage-driver overlay "$@"
}

buildah_reset() {
	local c
	if [ -d "$TSB_W/buildah/root" ]; then
		buildah_cmd rm --all >/dev/null 2>&1 || true
	fi
	reset_dir "$TSB_W/buildah"
	base_rootfs_tar
	c=$(buildah_cmd from --pull-never scratch)
	buildah_cmd add "$c" "$TSB_W/base/rootfs.tar" / >/dev/null
	buildah_cmd config --env "PATH=$TSB_PATH_ENV" --cmd /bin/sh "$c"
	buildah_cmd commit -q "$c" "$TSB_BASE_IMAGE" >/dev/null
	buildah_cmd rm "$c" >/dev/null
}

# buildah_build TAG DOCKERFILE CONTEXT [EXTRA...]
buildah_build() {
	local tag=$1 file=$2 ctx=$3
	shift 3
	buildah_cmd bud --isolation chroot --layers --pull-never -t "$tag" -f "$file" "$@" "$ctx"
}

buildah_stop() {
	[ -d "$TSB_W/buildah/root" ] || return 0
	buildah_cmd rm --all >/dev/null 2>&1 || true
	unmount_under "$TSB_W/buildah"
}

# ---------------------------------------------------------------- tsbuild

# bin/tsbuild and dist/ must exist and `tsbuild --help` must work (checked
# once); TSBUILD_BIN=path overrides the binary (dist/ is not checked then).
TSB_TSBUILD_OK=
tsbuild_available() {
	if [ -z "$TSB_TSBUILD_OK" ]; then
		TSB_TSBUILD_OK=no
		if [ -f "$TSB_TSBUILD_BIN" ] && { [ -n "${TSBUILD_BIN:-}" ] || [ -d "$TSB_REPO/dist" ]; } &&
			tsbuild_cmd --help >/dev/null 2>&1; then
			TSB_TSBUILD_OK=yes
		fi
	fi
	[ "$TSB_TSBUILD_OK" = yes ]
}

tsbuild_cmd() {
	if [ -x "$TSB_TSBUILD_BIN" ]; then
		TSBUILD_ROOT="$TSB_W/tsbuild/root" "$TSB_TSBUILD_BIN" "$@"
	else
		TSBUILD_ROOT="$TSB_W/tsbuild/root" node "$TSB_TSBUILD_BIN" "$@"
	fi
}

tsbuild_reset() {
	reset_dir "$TSB_W/tsbuild"
	mkdir -p "$TSB_W/tsbuild/root"
	tsbuild_cmd build -t "$TSB_BASE_IMAGE" --build-context busybox=/bin \
		"$TSB_REPO/bench/base" >>"$TSB_W/logs/tsbuild-base.log" 2>&1 </dev/null ||
		{
			tail -20 "$TSB_W/logs/tsbuild-base.log" >&2
			return 1
		}
}

# tsbuild_build TAG DOCKERFILE CONTEXT [EXTRA...]
tsbuild_build() {
	local tag=$1 file=$2 ctx=$3
	shift 3
	# shellcheck disable=SC2086 # BENCH_TSBUILD_FLAGS is a list of flags
	tsbuild_cmd build -t "$tag" -f "$file" ${BENCH_TSBUILD_FLAGS:-} "$@" "$ctx"
}

tsbuild_stop() { unmount_under "$TSB_W/tsbuild"; }

# ---------------------------------------------------------------- dispatch

# peer_reset NAME — fresh storage for builder NAME holding only the base image.
peer_reset() {
	case $1 in
	tsbuild) tsbuild_reset ;;
	buildah) buildah_reset ;;
	buildkit) docker_reset ;;
	*) die "unknown builder $1" ;;
	esac
}

# peer_build NAME TAG DOCKERFILE CONTEXT [EXTRA...]
peer_build() {
	local b=$1
	shift
	case $b in
	tsbuild) tsbuild_build "$@" ;;
	buildah) buildah_build "$@" ;;
	buildkit) docker_build "$@" ;;
	*) die "unknown builder $b" ;;
	esac
}

# peer_release NAME — stop daemons and free the builder's storage.
peer_release() {
	case $1 in
	tsbuild) tsbuild_stop ;;
	buildah) buildah_stop ;;
	buildkit) docker_stop ;;
	esac
}
