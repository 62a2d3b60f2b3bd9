/* Resource limits and accounting through the cgroup v1 hierarchy (memory, pids, cpuacct).
 * Never fatal: without cgroups the build runs unlimited, with a warning. */
#ifndef TSBUILD_SANDBOX_CGROUP_H
#define TSBUILD_SANDBOX_CGROUP_H

#include <sys/types.h>

enum { CG_MEMORY, CG_PIDS, CG_CPUACCT, CG_COUNT };

struct cgroup {
	char *dirs[CG_COUNT]; /* NULL where the controller is unavailable */
};

/* Creates tsbuild/<random> under each controller. */
void cgroup_create(struct cgroup *cg);

/* Sets the limits (0: none). A controller whose limit cannot be set is dropped, with a warning. */
void cgroup_limit(struct cgroup *cg, long long memory_limit, long long pids_limit);

/* Moves pid (and so its future children) into the cgroups. On cgroup v1 the first move after a
 * quiet spell waits out an RCU grace period (~10 ms here): a prepared sandbox has paid it already. */
void cgroup_enter(const struct cgroup *cg, pid_t pid);

/* Peak memory and CPU time used; -1 when unknown. */
void cgroup_collect(const struct cgroup *cg, long long *memory_peak, long long *cpu_ns);

/* Removes the cgroups that launchers killed before their cleanup left (their pid is gone). */
void cgroup_collect_stale(void);

/* Removes the cgroups (they must be empty: call after the sandbox is gone). */
void cgroup_remove(struct cgroup *cg);

#endif
