#define _GNU_SOURCE
#include "cgroup_fs.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CGROUP_ROOT "/sys/fs/cgroup"

/* Every v1 controller a RUN cgroup may use (sandbox_cgroup.c): the sweep looks under each. */
static const char *const v1_controllers[] = { "memory", "pids", "cpuacct", "cpu", "cpuset", "blkio" };

/* A cgroup2 mount for tests, as $TSBUILD_CGROUP2_MOUNT (absolute, no "..": it is written to). */
static const char *v2_override(void)
{
	const char *m = getenv("TSBUILD_CGROUP2_MOUNT");
	return m && m[0] == '/' && !strstr(m, "..") && strlen(m) < 256 ? m : NULL;
}

int cgfs_unified(void)
{
	static int unified = -1;
	if (unified < 0) {
		struct statfs st;
		unified = v2_override() || (statfs(CGROUP_ROOT, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC);
	}
	return unified;
}

const char *cgfs_mount(const char *controller, char *out, size_t len)
{
	if (!controller)
		snprintf(out, len, "%s", v2_override() ? v2_override() : CGROUP_ROOT);
	else
		snprintf(out, len, CGROUP_ROOT "/%s", controller);
	return out;
}

/* $TSBUILD_CGROUP_PARENT (tests use their own) or "tsbuild": one path component. */
static const char *parent_name(void)
{
	const char *p = getenv("TSBUILD_CGROUP_PARENT");
	if (!p || !*p || strlen(p) > 64 || strcmp(p, ".") == 0 || strcmp(p, "..") == 0)
		return "tsbuild";
	for (const char *c = p; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			return "tsbuild";
	return p;
}

/* Whether the comma list `list` ("cpu,cpuacct") holds `name`. */
static int in_list(const char *list, size_t len, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list, *end = list + len; p < end;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t item = (size_t)((comma ? comma : end) - p);
		if (item == n && memcmp(p, name, n) == 0)
			return 1;
		p += item + 1;
	}
	return 0;
}

/* This process's cgroup path for a v1 controller, or the v2 one (controller NULL), from
 * /proc/self/cgroup ("ID:CONTROLLERS:PATH" lines; v2's is "0::PATH"). */
static int caller_path(const char *controller, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -1;
	char line[4096];
	int found = -1;
	while (found < 0 && fgets(line, sizeof line, f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		char *path = c2 + 1;
		path[strcspn(path, "\n")] = 0;
		int match = controller ? in_list(c1 + 1, (size_t)(c2 - c1 - 1), controller) : c2 == c1 + 1;
		if (match && path[0] == '/') {
			snprintf(out, len, "%s", strcmp(path, "/") == 0 ? "" : path);
			found = 0;
		}
	}
	fclose(f);
	return found;
}

int cgfs_caller_dir(const char *controller, char *out, size_t len)
{
	char path[4096], mount[512];
	if (caller_path(controller, path, sizeof path) < 0)
		return -1;
	snprintf(out, len, "%s%s", cgfs_mount(controller, mount, sizeof mount), path);
	return 0;
}

int cgfs_parent_dir(const char *controller, char *out, size_t len)
{
	char caller[4096];
	if (cgfs_caller_dir(controller, caller, sizeof caller) < 0)
		return -1;
	snprintf(out, len, "%s/%s", caller, parent_name());
	return 0;
}

/* Field 22 of /proc/PID/stat (start time in clock ticks since boot); -1 when gone or a zombie. */
static long long start_time(long pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	const char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return -1;
	/* p + 2 is field 3 (the state); field 22 is 19 spaces on. */
	const char *q = p + 2;
	for (int field = 3; field < 22; field++)
		if (!(q = strchr(q, ' ')))
			return -1;
		else
			q++;
	return strtoll(q, NULL, 10);
}

void cgfs_lease_name(char *out, size_t len)
{
	unsigned char rnd[3];
	if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
		memset(rnd, (int)time(NULL), sizeof rnd);
	long pid = (long)getpid();
	snprintf(out, len, "%ld-%lld-%02x%02x%02x", pid, start_time(pid), rnd[0], rnd[1], rnd[2]);
}

/* Whether s is exactly n lowercase hex digits. */
static int hex_tail(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return s[n] == 0;
}

int cgfs_lease_alive(const char *name)
{
	char *end;
	long pid = strtol(name, &end, 10);
	if (pid <= 0 || *end != '-')
		return 1;
	if (hex_tail(end + 1, 6)) /* <pid>-<hex>: made before leases had a start time */
		return start_time(pid) >= 0;
	long long started = strtoll(end + 1, &end, 10);
	if (*end != '-' || !hex_tail(end + 1, 6))
		return 1;
	return start_time(pid) == started;
}

/* Removes the dead leases in one parent dir, then the dir if nothing is left in it. */
static int sweep_dir(const char *parent)
{
	DIR *d = opendir(parent);
	if (!d)
		return 0;
	int removed = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.' || cgfs_lease_alive(e->d_name))
			continue;
		char path[4608];
		snprintf(path, sizeof path, "%s/%s", parent, e->d_name);
		removed += rmdir(path) == 0; /* fails, harmlessly, while a process is still in it */
	}
	closedir(d);
	rmdir(parent); /* fails unless empty; a launcher that loses its parent this way makes it again */
	return removed;
}

/* The parent dir at the hierarchy's root, as RUN cgroups were placed before. */
static void root_parent(const char *controller, char *out, size_t len)
{
	char mount[512];
	snprintf(out, len, "%s/%s", cgfs_mount(controller, mount, sizeof mount), parent_name());
}

int cgfs_sweep(void)
{
	int removed = 0;
	size_t n = cgfs_unified() ? 1 : sizeof v1_controllers / sizeof v1_controllers[0];
	for (size_t i = 0; i < n; i++) {
		const char *controller = cgfs_unified() ? NULL : v1_controllers[i];
		char mine[4608], legacy[1024];
		root_parent(controller, legacy, sizeof legacy);
		if (cgfs_parent_dir(controller, mine, sizeof mine) == 0 && strcmp(mine, legacy) != 0)
			removed += sweep_dir(mine);
		removed += sweep_dir(legacy);
	}
	return removed;
}
