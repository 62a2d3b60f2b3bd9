/* One RUN's cgroups: its resource limits and what it used. They are made under the caller's own
 * cgroup (cgroup_fs.h), in cgroup v1 (a dir per controller) or v2 (one dir), before the spec is known
 * (a prepared launcher enters them early), and removed when the launcher exits. */
#ifndef TSBUILD_SANDBOX_CGROUP_H
#define TSBUILD_SANDBOX_CGROUP_H

#include <sys/types.h>

struct json;

/* The v1 controllers; in v2 the same names select what the one dir enables (blkio is "io"). */
enum { CG_MEMORY, CG_PIDS, CG_CPUACCT, CG_CPU, CG_CPUSET, CG_BLKIO, CG_COUNT };

/* What every RUN cgroup has: the metrics file's memory and CPU, and the pids guard. cpu, cpuset and
 * blkio are made only for a build that sets their limits (the launcher's --cgroup-controllers). */
#define CG_BASE ((1u << CG_MEMORY) | (1u << CG_PIDS) | (1u << CG_CPUACCT))

/* The limits, as the spec's "cgroup" object names them; each bit of best_effort is a limit (in
 * this order) that the host may fail to apply with only a warning: the rest are errors. */
enum { LIM_MEMORY, LIM_SWAP, LIM_SHARES, LIM_PERIOD, LIM_QUOTA, LIM_CPUSET, LIM_PIDS, LIM_BLKIO, LIM_COUNT };

struct cgroup_limits {
	long long memory;                            /* bytes; 0: none */
	long long memory_swap;                       /* memory + swap, bytes; 0: none; -1: unlimited swap */
	long long cpu_shares, cpu_period, cpu_quota; /* shares; µs; µs. 0: none */
	const char *cpuset_cpus;                     /* "0-1,3"; NULL: none */
	long long pids;                              /* 0: none */
	long long blkio_weight;                      /* 10-1000; 0: none */
	unsigned best_effort;
};

struct cgroup {
	int unified;
	char *dirs[CG_COUNT]; /* v1: each controller's dir, NULL where not made; v2: dirs[0] only */
	unsigned usable;      /* controllers whose files this cgroup has */
};

struct cgroup_usage {
	long long memory_peak, cpu_ns, pids_peak; /* -1: unknown */
	long long oom_kills, pids_denied;         /* processes the OOM killer took; forks the pids limit refused */
};

/* Parses the spec's "cgroup" object (dies naming a bad field); 0 when it is absent or null. */
int cgroup_spec_parse(const struct json *v, const char *source, struct cgroup_limits *out);

/* The controllers (bits of CG_*) the limits need besides CG_BASE. */
unsigned cgroup_needs(const struct cgroup_limits *l);

/* Parses --cgroup-controllers "cpu,cpuset,blkio" into CG_* bits; -1 on a name it does not know. */
int cgroup_controllers_arg(const char *list, unsigned *out);

/* Makes this launcher's cgroups (CG_BASE | extra). A controller that cannot be had is left out
 * with a warning: a limit that needs it fails in cgroup_limit. */
void cgroup_create(struct cgroup *cg, unsigned extra);

/* Writes the limits. One the host cannot apply kills the launcher with a message naming it and
 * its flag, unless it is best effort (then a warning). */
void cgroup_limit(struct cgroup *cg, const struct cgroup_limits *l);

/* Moves pid (and so its future children) into the cgroups. On cgroup v1 the first move after a
 * quiet spell waits out an RCU grace period (~10 ms here): a prepared sandbox has paid it already. */
void cgroup_enter(const struct cgroup *cg, pid_t pid);

void cgroup_collect(const struct cgroup *cg, struct cgroup_usage *u);

/* Removes the cgroups (they must be empty: call after the sandbox is gone). */
void cgroup_remove(struct cgroup *cg);

#endif
