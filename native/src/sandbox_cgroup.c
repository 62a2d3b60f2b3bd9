#define _GNU_SOURCE
#include "sandbox_cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_fs.h"
#include "json.h"
#include "sandbox_report.h"

/* Each controller's hierarchy in v1, and its name in v2's cgroup.subtree_control (NULL: nothing to
 * enable; a v2 cgroup always has cpu.stat). */
static const char *const v1_names[CG_COUNT] = { "memory", "pids", "cpuacct", "cpu", "cpuset", "blkio" };
static const char *const v2_names[CG_COUNT] = { "memory", "pids", NULL, "cpu", "cpuset", "io" };

/* Each limit: its key in the spec, what it is, the build flag that sets it, its controller. */
static const struct {
	const char *key, *what, *flag;
	int controller;
} limits[LIM_COUNT] = {
	[LIM_MEMORY] = { "memoryLimit", "memory limit", "--memory", CG_MEMORY },
	[LIM_SWAP] = { "memorySwapLimit", "memory+swap limit", "--memory-swap", CG_MEMORY },
	[LIM_SHARES] = { "cpuShares", "CPU shares", "--cpu-shares", CG_CPU },
	[LIM_PERIOD] = { "cpuPeriod", "CPU period", "--cpu-period", CG_CPU },
	[LIM_QUOTA] = { "cpuQuota", "CPU quota", "--cpu-quota/--cpus", CG_CPU },
	[LIM_CPUSET] = { "cpusetCpus", "CPU set", "--cpuset-cpus", CG_CPUSET },
	[LIM_PIDS] = { "pidsLimit", "pids limit", "--pids-limit", CG_PIDS },
	[LIM_BLKIO] = { "blkioWeight", "block I/O weight", "--blkio-weight", CG_BLKIO },
};

static int write_value(const char *dir, const char *file, const char *value)
{
	char path[4800];
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

/* A small cgroup file's text, NUL-terminated, without its newline; "" when unreadable. */
static void read_text(const char *dir, const char *file, char *buf, size_t len)
{
	char path[4800];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	buf[0] = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

static long long read_number(const char *dir, const char *file)
{
	char buf[64];
	read_text(dir, file, buf, sizeof buf);
	return buf[0] ? strtoll(buf, NULL, 10) : -1;
}

/* The value of "KEY N" in a flat-keyed file (memory.events, pids.events, cpu.stat); -1 if none. */
static long long read_key(const char *dir, const char *file, const char *key)
{
	char path[4800], line[256];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	long long value = -1;
	size_t n = strlen(key);
	while (value < 0 && fgets(line, sizeof line, f))
		if (strncmp(line, key, n) == 0 && line[n] == ' ')
			value = strtoll(line + n + 1, NULL, 10);
	fclose(f);
	return value;
}

__attribute__((noreturn)) static void bad(const char *source, const char *key, const char *expected)
{
	die("spec %s: cgroup.%s must be %s", source, key, expected);
}

/* A cpuset list ("0-3,6"): digits, commas and dashes only, since it is written to a cgroup file. */
static int cpu_list(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if ((*s < '0' || *s > '9') && *s != ',' && *s != '-')
			return 0;
	return 1;
}

static void parse_best_effort(const struct json *v, const char *source, unsigned *out)
{
	if (!v || v->type == JSON_NULL)
		return;
	if (v->type != JSON_ARRAY)
		bad(source, "bestEffort", "an array of limit names");
	for (size_t i = 0; i < v->len; i++) {
		int found = -1;
		for (int l = 0; l < LIM_COUNT && v->items[i]->type == JSON_STRING; l++)
			if (strcmp(v->items[i]->string, limits[l].key) == 0)
				found = l;
		if (found < 0)
			bad(source, "bestEffort", "an array of limit names");
		*out |= 1u << found;
	}
}

int cgroup_spec_parse(const struct json *v, const char *source, struct cgroup_limits *l)
{
	memset(l, 0, sizeof *l);
	if (!v || v->type == JSON_NULL)
		return 0;
	if (v->type != JSON_OBJECT)
		bad(source, "", "an object");
	long long *numbers[LIM_COUNT] = {
		&l->memory,	&l->memory_swap, &l->cpu_shares, &l->cpu_period, &l->cpu_quota, NULL, &l->pids,
		&l->blkio_weight,
	};
	for (int i = 0; i < LIM_COUNT; i++) {
		const struct json *f = json_get(v, limits[i].key);
		if (!f || f->type == JSON_NULL)
			continue;
		if (i == LIM_CPUSET) {
			if (f->type != JSON_STRING || !cpu_list(f->string))
				bad(source, limits[i].key, "a CPU list such as \"0-1,3\"");
			l->cpuset_cpus = f->string;
		} else if (f->type != JSON_NUMBER || f->number != (double)(long long)f->number ||
			   f->number < (i == LIM_SWAP ? -1 : 0)) {
			bad(source, limits[i].key, i == LIM_SWAP ? "a whole number >= -1" : "a whole number >= 0");
		} else {
			*numbers[i] = (long long)f->number;
		}
	}
	parse_best_effort(json_get(v, "bestEffort"), source, &l->best_effort);
	return 1;
}

unsigned cgroup_needs(const struct cgroup_limits *l)
{
	unsigned need = 0;
	if (l->cpu_shares || l->cpu_period || l->cpu_quota)
		need |= 1u << CG_CPU;
	if (l->cpuset_cpus)
		need |= 1u << CG_CPUSET;
	if (l->blkio_weight)
		need |= 1u << CG_BLKIO;
	return need;
}

int cgroup_controllers_arg(const char *list, unsigned *out)
{
	char *copy = strdup(list), *save = NULL;
	*out = 0;
	for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		int found = -1;
		for (int i = 0; i < CG_COUNT; i++)
			if (strcmp(name, v1_names[i]) == 0)
				found = i;
		if (found < 0) {
			free(copy);
			return -1;
		}
		*out |= 1u << found;
	}
	free(copy);
	return 0;
}

/* A v1 cpuset cgroup takes no task until it has CPUs and memory nodes: each copies its parent's. */
static void inherit_cpuset(const char *dir, const char *from)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	for (int i = 0; i < 2; i++) {
		char mine[1024], theirs[1024];
		read_text(dir, files[i], mine, sizeof mine);
		read_text(from, files[i], theirs, sizeof theirs);
		if (!mine[0] && theirs[0] && write_value(dir, files[i], theirs) < 0)
			warn("cgroup %s/%s: %s", dir, files[i], strerror(errno));
	}
}

/* Makes <parent>/<lease> for one v1 controller; NULL (with a warning, unless the controller is not
 * mounted at all) when it cannot. A sweep may remove the parent between the two mkdirs: again. */
static char *make_v1(int i, const char *lease)
{
	char caller[4096], parent[4608];
	if (cgfs_caller_dir(v1_names[i], caller, sizeof caller) < 0)
		return NULL;
	cgfs_parent_dir(v1_names[i], parent, sizeof parent);
	for (int tries = 0; tries < 5; tries++) {
		if (mkdir(parent, 0755) < 0 && errno != EEXIST)
			break;
		if (i == CG_CPUSET)
			inherit_cpuset(parent, caller);
		char *dir;
		if (asprintf(&dir, "%s/%s", parent, lease) < 0)
			abort();
		if (mkdir(dir, 0755) == 0) {
			if (i == CG_CPUSET)
				inherit_cpuset(dir, parent);
			return dir;
		}
		free(dir);
		if (errno != ENOENT)
			break;
	}
	warn("cgroup %s/%s: mkdir: %s; running without it", parent, lease, strerror(errno));
	return NULL;
}

/* Whether the space-separated list (cgroup.controllers, cgroup.subtree_control) holds name. */
static int has_word(const char *list, const char *name)
{
	char padded[520], word[40];
	snprintf(padded, sizeof padded, " %s ", list);
	snprintf(word, sizeof word, " %s ", name);
	return strstr(padded, word) != NULL;
}

/* Enables the wanted controllers (CG_* bits) in dir's cgroup.subtree_control where it can, and
 * returns those that are enabled there. v2 refuses (EBUSY) in a cgroup with processes of its own. */
static unsigned v2_enable(const char *dir, unsigned want)
{
	char have[512];
	unsigned enabled = 0;
	for (int pass = 0; pass < 2; pass++) {
		read_text(dir, "cgroup.subtree_control", have, sizeof have);
		enabled = 0;
		for (int i = 0; i < CG_COUNT; i++) {
			if (!(want & (1u << i)) || !v2_names[i])
				continue;
			if (has_word(have, v2_names[i]))
				enabled |= 1u << i;
			else if (pass == 0) {
				char word[32];
				snprintf(word, sizeof word, "+%s", v2_names[i]);
				write_value(dir, "cgroup.subtree_control", word);
			}
		}
	}
	return enabled;
}

/* The v2 cgroup: <caller>/<parent>/<lease>, with the controllers the caller can hand down. */
static void make_v2(struct cgroup *cg, unsigned want, const char *lease)
{
	char caller[4096], parent[4608];
	if (cgfs_caller_dir(NULL, caller, sizeof caller) < 0) {
		warn("cgroup v2: this process is in no cgroup; running without one");
		return;
	}
	cgfs_parent_dir(NULL, parent, sizeof parent);
	unsigned delegated = v2_enable(caller, want);
	for (int tries = 0; tries < 5; tries++) {
		if (mkdir(parent, 0755) < 0 && errno != EEXIST)
			break;
		unsigned enabled = v2_enable(parent, delegated);
		if (asprintf(&cg->dirs[0], "%s/%s", parent, lease) < 0)
			abort();
		if (mkdir(cg->dirs[0], 0755) == 0) {
			cg->usable = enabled | (1u << CG_CPUACCT);
			return;
		}
		free(cg->dirs[0]);
		cg->dirs[0] = NULL;
		if (errno != ENOENT)
			break;
	}
	warn("cgroup %s/%s: mkdir: %s; running without it", parent, lease, strerror(errno));
}

void cgroup_create(struct cgroup *cg, unsigned extra)
{
	memset(cg, 0, sizeof *cg);
	char lease[96];
	cgfs_lease_name(lease, sizeof lease);
	unsigned want = CG_BASE | extra;
	cg->unified = cgfs_unified();
	if (cg->unified) {
		make_v2(cg, want, lease);
		return;
	}
	for (int i = 0; i < CG_COUNT; i++)
		if ((want & (1u << i)) && (cg->dirs[i] = make_v1(i, lease)))
			cg->usable |= 1u << i;
}

/* A limit that could not be applied: an error, or a warning for a best-effort one. */
__attribute__((format(printf, 3, 4))) static void refused(const struct cgroup_limits *l, int lim, const char *fmt,
							  ...)
{
	char why[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (l->best_effort & (1u << lim))
		warn("cannot apply the %s (%s): %s; running without it", limits[lim].what, limits[lim].flag, why);
	else
		die("cannot apply the %s (%s): %s", limits[lim].what, limits[lim].flag, why);
}

/* Why cgroup v2 gave the RUN no such controller: the caller's cgroup has none to hand down (not
 * delegated, or bound to a v1 hierarchy as on a hybrid host), or could not hand it down. */
static const char *v2_missing(int c)
{
	char caller[4096], have[512] = "";
	if (cgfs_caller_dir(NULL, caller, sizeof caller) == 0)
		read_text(caller, "cgroup.controllers", have, sizeof have);
	if (!has_word(have, v2_names[c]))
		return " (none is offered to it: not delegated, or bound to a cgroup v1 hierarchy)";
	return " (cgroup v2 hands controllers down only from a cgroup with no processes of its own)";
}

/* Writes value to the first of the files (NULL-ended) that exists. */
static void apply(const struct cgroup *cg, const struct cgroup_limits *l, int lim, const char *value,
		  const char *const *files)
{
	int c = limits[lim].controller;
	const char *dir = cg->dirs[cg->unified ? 0 : c];
	if (!dir || !(cg->usable & (1u << c))) {
		refused(l, lim, "the %s controller is not available to this process's cgroup%s",
			cg->unified ? v2_names[c] : v1_names[c], cg->unified ? v2_missing(c) : "");
		return;
	}
	int err = ENOENT;
	char names[256] = "";
	for (const char *const *f = files; *f; f++) {
		if (write_value(dir, *f, value) == 0)
			return;
		if (errno != ENOENT)
			err = errno;
		snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", f == files ? "" : " or ", *f);
	}
	/* No such file: the kernel lacks the knob (blkio weights need the BFQ I/O scheduler). */
	if (err == ENOENT)
		refused(l, lim, "this kernel's %s controller has no %s", cg->unified ? v2_names[c] : v1_names[c], names);
	else
		refused(l, lim, "%s in %s: %s", value, dir, strerror(err));
}

#define FILES(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void limit_v1(const struct cgroup *cg, const struct cgroup_limits *l)
{
	char v[64];
	if (l->memory && snprintf(v, sizeof v, "%lld", l->memory))
		apply(cg, l, LIM_MEMORY, v, FILES("memory.limit_in_bytes"));
	if (l->memory_swap > 0 && snprintf(v, sizeof v, "%lld", l->memory_swap))
		apply(cg, l, LIM_SWAP, v, FILES("memory.memsw.limit_in_bytes"));
	if (l->cpu_shares && snprintf(v, sizeof v, "%lld", l->cpu_shares))
		apply(cg, l, LIM_SHARES, v, FILES("cpu.shares"));
	if (l->cpu_period && snprintf(v, sizeof v, "%lld", l->cpu_period))
		apply(cg, l, LIM_PERIOD, v, FILES("cpu.cfs_period_us"));
	if (l->cpu_quota && snprintf(v, sizeof v, "%lld", l->cpu_quota))
		apply(cg, l, LIM_QUOTA, v, FILES("cpu.cfs_quota_us"));
	if (l->cpuset_cpus)
		apply(cg, l, LIM_CPUSET, l->cpuset_cpus, FILES("cpuset.cpus"));
	if (l->pids && snprintf(v, sizeof v, "%lld", l->pids))
		apply(cg, l, LIM_PIDS, v, FILES("pids.max"));
	if (l->blkio_weight && snprintf(v, sizeof v, "%lld", l->blkio_weight))
		apply(cg, l, LIM_BLKIO, v, FILES("blkio.weight", "blkio.bfq.weight"));
}

/* v2 spells some limits differently: swap apart from memory, cpu.max as "QUOTA PERIOD", weights on
 * other scales (converted as runc converts them). */
static void limit_v2(const struct cgroup *cg, const struct cgroup_limits *l)
{
	char v[64];
	if (l->memory && snprintf(v, sizeof v, "%lld", l->memory))
		apply(cg, l, LIM_MEMORY, v, FILES("memory.max"));
	if (l->memory_swap) {
		if (l->memory_swap < 0)
			snprintf(v, sizeof v, "max");
		else
			snprintf(v, sizeof v, "%lld", l->memory_swap > l->memory ? l->memory_swap - l->memory : 0);
		apply(cg, l, LIM_SWAP, v, FILES("memory.swap.max"));
	}
	if (l->cpu_shares && snprintf(v, sizeof v, "%lld", 1 + ((l->cpu_shares - 2) * 9999) / 262142))
		apply(cg, l, LIM_SHARES, v, FILES("cpu.weight"));
	if (l->cpu_quota || l->cpu_period) {
		long long period = l->cpu_period ? l->cpu_period : 100000;
		if (l->cpu_quota)
			snprintf(v, sizeof v, "%lld %lld", l->cpu_quota, period);
		else
			snprintf(v, sizeof v, "max %lld", period);
		apply(cg, l, l->cpu_quota ? LIM_QUOTA : LIM_PERIOD, v, FILES("cpu.max"));
	}
	if (l->cpuset_cpus)
		apply(cg, l, LIM_CPUSET, l->cpuset_cpus, FILES("cpuset.cpus"));
	if (l->pids && snprintf(v, sizeof v, "%lld", l->pids))
		apply(cg, l, LIM_PIDS, v, FILES("pids.max"));
	if (l->blkio_weight) {
		/* BFQ takes docker's 10-1000 as it is; io.weight's scale is 1-10000. */
		char bfq[32];
		snprintf(bfq, sizeof bfq, "%lld", l->blkio_weight);
		snprintf(v, sizeof v, "default %lld", 1 + (l->blkio_weight - 10) * 9999 / 990);
		if (!cg->dirs[0] || write_value(cg->dirs[0], "io.bfq.weight", bfq) < 0)
			apply(cg, l, LIM_BLKIO, v, FILES("io.weight"));
	}
}

void cgroup_limit(struct cgroup *cg, const struct cgroup_limits *l)
{
	if (cg->unified)
		limit_v2(cg, l);
	else
		limit_v1(cg, l);
}

void cgroup_enter(const struct cgroup *cg, pid_t pid)
{
	char value[32];
	snprintf(value, sizeof value, "%d", (int)pid);
	for (int i = 0; i < CG_COUNT; i++)
		if (cg->dirs[i] && write_value(cg->dirs[i], "cgroup.procs", value) < 0)
			warn("cgroup %s: cgroup.procs: %s; running without it", cg->dirs[i], strerror(errno));
}

void cgroup_collect(const struct cgroup *cg, struct cgroup_usage *u)
{
	*u = (struct cgroup_usage){ -1, -1, -1, 0, 0 };
	const char *const *d = (const char *const *)cg->dirs;
	long long v;
	if (cg->unified) {
		if (!d[0])
			return;
		if (cg->usable & (1u << CG_MEMORY))
			u->memory_peak = read_number(d[0], "memory.peak");
		if ((v = read_key(d[0], "cpu.stat", "usage_usec")) >= 0)
			u->cpu_ns = v * 1000;
		u->pids_peak = read_number(d[0], "pids.peak");
		u->oom_kills = read_key(d[0], "memory.events", "oom_kill");
		u->pids_denied = read_key(d[0], "pids.events", "max");
	} else {
		if (d[CG_MEMORY]) {
			u->memory_peak = read_number(d[CG_MEMORY], "memory.max_usage_in_bytes");
			u->oom_kills = read_key(d[CG_MEMORY], "memory.oom_control", "oom_kill");
		}
		if (d[CG_CPUACCT])
			u->cpu_ns = read_number(d[CG_CPUACCT], "cpuacct.usage");
		if (d[CG_PIDS]) {
			u->pids_peak = read_number(d[CG_PIDS], "pids.peak");
			u->pids_denied = read_key(d[CG_PIDS], "pids.events", "max");
		}
	}
	if (u->oom_kills < 0)
		u->oom_kills = 0;
	if (u->pids_denied < 0)
		u->pids_denied = 0;
}

void cgroup_remove(struct cgroup *cg)
{
	for (int i = 0; i < CG_COUNT; i++) {
		if (!cg->dirs[i])
			continue;
		/* The last task may still be leaving the cgroup just after it was reaped. */
		for (int tries = 0; rmdir(cg->dirs[i]) < 0 && errno == EBUSY && tries < 100; tries++)
			usleep(1000);
		/* The parent too, when this was its last: a launcher between its two mkdirs makes it again. */
		char *slash = strrchr(cg->dirs[i], '/');
		if (slash) {
			*slash = 0;
			rmdir(cg->dirs[i]);
		}
		free(cg->dirs[i]);
		cg->dirs[i] = NULL;
	}
}
