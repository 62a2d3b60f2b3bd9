/* Resource limits and accounting through the cgroup v1 hierarchy (memory, pids, cpuacct).
 * Never fatal: without cgroups the build runs unlimited, with a warning. */
#ifndef TSBUILD_SANDBOX_CGROUP_H
#define TSBUILD_SANDBOX_CGROUP_H

#include <sys/types.h>

enum { CG_MEMORY, CG_PIDS, CG_CPUACCT, CG_COUNT };

struct cgroup {
	char *dirs[CG_COUNT]; /* NULL where the controller is unavailable */
};

/* Creates tsbuild/<random> under each controller and sets the limits (0: none). */
void cgroup_create(struct cgroup *cg, long long memory_limit, long long pids_limit);

/* Moves pid (and so its future children) into the cgroups. */
void cgroup_enter(const struct cgroup *cg, pid_t pid);

/* Peak memory and CPU time used; -1 when unknown. */
void cgroup_collect(const struct cgroup *cg, long long *memory_peak, long long *cpu_ns);

/* Removes the cgroups (they must be empty: call after the sandbox is gone). */
void cgroup_remove(struct cgroup *cg);

#endif
