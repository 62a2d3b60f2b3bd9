#define _GNU_SOURCE
#include "sandbox_cgroup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sandbox_report.h"

static const char *const controllers[CG_COUNT] = { "memory", "pids", "cpuacct" };

static int write_value(const char *dir, const char *file, const char *value)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, value, strlen(value));
	int e = errno;
	close(fd);
	errno = e;
	return n < 0 ? -1 : 0;
}

static long long read_value(const char *dir, const char *file)
{
	char path[4096], buf[64];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtoll(buf, NULL, 10);
}

/* The cgroup stays (the sandbox may be in it already, and it still accounts); only the limit is lost. */
static void unlimited(const struct cgroup *cg, int i, const char *what)
{
	warn("cgroup %s: %s: %s; running without the limit", cg->dirs[i], what, strerror(errno));
}

/* The dir under each controller that holds tsbuild's cgroups: $TSBUILD_CGROUP_PARENT (tests use
 * their own) or "tsbuild". */
static const char *parent_name(void)
{
	const char *p = getenv("TSBUILD_CGROUP_PARENT");
	if (!p || !*p || strlen(p) > 64)
		return "tsbuild";
	for (const char *c = p; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			return "tsbuild";
	return p;
}

void cgroup_create(struct cgroup *cg)
{
	unsigned char rnd[3];
	if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
		memset(rnd, (int)time(NULL), sizeof rnd);
	for (int i = 0; i < CG_COUNT; i++) {
		char parent[256];
		snprintf(parent, sizeof parent, "/sys/fs/cgroup/%s/%s", controllers[i], parent_name());
		cg->dirs[i] = NULL;
		if (mkdir(parent, 0755) < 0 && errno != EEXIST) {
			warn("cgroup %s: mkdir: %s; running without it", parent, strerror(errno));
			continue;
		}
		/* Named after this launcher, so that cgroup_collect_stale can tell a killed one's. */
		if (asprintf(&cg->dirs[i], "%s/%d-%02x%02x%02x", parent, (int)getpid(), rnd[0], rnd[1], rnd[2]) < 0)
			abort();
		if (mkdir(cg->dirs[i], 0755) < 0) {
			warn("cgroup %s: mkdir: %s; running without it", cg->dirs[i], strerror(errno));
			free(cg->dirs[i]);
			cg->dirs[i] = NULL;
			continue;
		}
	}
}

void cgroup_limit(struct cgroup *cg, long long memory_limit, long long pids_limit)
{
	char value[32];
	if (cg->dirs[CG_MEMORY] && memory_limit > 0) {
		snprintf(value, sizeof value, "%lld", memory_limit);
		if (write_value(cg->dirs[CG_MEMORY], "memory.limit_in_bytes", value) < 0)
			unlimited(cg, CG_MEMORY, "memory.limit_in_bytes");
		else /* With swap, the limit alone would only push the build into swap. */
			write_value(cg->dirs[CG_MEMORY], "memory.memsw.limit_in_bytes", value);
	}
	if (cg->dirs[CG_PIDS] && pids_limit > 0) {
		snprintf(value, sizeof value, "%lld", pids_limit);
		if (write_value(cg->dirs[CG_PIDS], "pids.max", value) < 0)
			unlimited(cg, CG_PIDS, "pids.max");
	}
}

void cgroup_enter(const struct cgroup *cg, pid_t pid)
{
	char value[32];
	snprintf(value, sizeof value, "%d", (int)pid);
	for (int i = 0; i < CG_COUNT; i++)
		if (cg->dirs[i] && write_value(cg->dirs[i], "cgroup.procs", value) < 0)
			warn("cgroup %s: cgroup.procs: %s; running without it", cg->dirs[i], strerror(errno));
}

void cgroup_collect(const struct cgroup *cg, long long *memory_peak, long long *cpu_ns)
{
	*memory_peak = cg->dirs[CG_MEMORY] ? read_value(cg->dirs[CG_MEMORY], "memory.max_usage_in_bytes") : -1;
	*cpu_ns = cg->dirs[CG_CPUACCT] ? read_value(cg->dirs[CG_CPUACCT], "cpuacct.usage") : -1;
}

void cgroup_remove(struct cgroup *cg)
{
	for (int i = 0; i < CG_COUNT; i++) {
		if (!cg->dirs[i])
			continue;
		/* The last task may still be leaving the cgroup just after it was reaped. */
		for (int tries = 0; rmdir(cg->dirs[i]) < 0 && errno == EBUSY && tries < 100; tries++)
			usleep(1000);
		free(cg->dirs[i]);
		cg->dirs[i] = NULL;
	}
}

/* Whether pid is a live process: not gone, and not a zombie (a killed launcher whose parent died
 * too may wait a long time for a reaper). */
static int alive(long pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	const char *end = strrchr(buf, ')');
	return end && end[1] == ' ' && end[2] != 'Z' && end[2] != 'X';
}

void cgroup_collect_stale(void)
{
	for (int i = 0; i < CG_COUNT; i++) {
		char parent[256];
		snprintf(parent, sizeof parent, "/sys/fs/cgroup/%s/%s", controllers[i], parent_name());
		DIR *d = opendir(parent);
		if (!d)
			continue;
		struct dirent *e;
		while ((e = readdir(d))) {
			char *dash;
			long pid = strtol(e->d_name, &dash, 10);
			if (pid <= 0 || *dash != '-' || alive(pid))
				continue;
			char path[512];
			snprintf(path, sizeof path, "%s/%s", parent, e->d_name);
			rmdir(path); /* fails, harmlessly, while a process is still in it */
		}
		closedir(d);
	}
}
