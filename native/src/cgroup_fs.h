/* Where tsbuild's RUN cgroups live, how they are named, and the sweep of those whose owner died.
 * libc only: the sandbox launcher (sandbox_cgroup.c) and the addon (a sweep at every build start and
 * prune) both link it.
 *
 * A RUN's cgroup is <mount>/<the caller's cgroup>/<parent>/<lease>: under the cgroup tsbuild itself
 * runs in (a systemd unit's or a CI job's limits keep applying to the RUN), in a dir named
 * $TSBUILD_CGROUP_PARENT or "tsbuild", named after the launcher that owns it (cgfs_lease_name). */
#ifndef TSBUILD_CGROUP_FS_H
#define TSBUILD_CGROUP_FS_H

#include <stddef.h>

/* Whether the host's cgroups are the unified (v2) hierarchy: /sys/fs/cgroup is a cgroup2 mount
 * (or $TSBUILD_CGROUP2_MOUNT names one: tests use it to drive the v2 code on a hybrid host). */
int cgfs_unified(void);

/* The mount of a v1 controller ("memory"), or of the unified hierarchy when controller is NULL. */
const char *cgfs_mount(const char *controller, char *out, size_t len);

/* <mount>/<caller's cgroup> for a v1 controller, or for v2 (controller NULL). -1 when this process
 * is in no cgroup of that controller (not mounted), else 0. */
int cgfs_caller_dir(const char *controller, char *out, size_t len);

/* <caller dir>/<parent name>: the dir that holds this process's RUN cgroups. */
int cgfs_parent_dir(const char *controller, char *out, size_t len);

/* The name of a cgroup this process owns: <pid>-<start time in ticks>-<6 hex digits>. The start
 * time tells a reused pid from the owner. */
void cgfs_lease_name(char *out, size_t len);

/* Whether the owner a lease name names is alive (a zombie counts as gone). Names in the older
 * <pid>-<6 hex> form are judged by their pid alone. Anything else counts as alive (not ours). */
int cgfs_lease_alive(const char *name);

/* Removes the RUN cgroups whose owner is gone, under this process's parent dir of every controller
 * and under the hierarchy roots' (where cgroups went before they were made under the caller), then
 * each parent dir that is left empty. A cgroup with a process in it cannot be removed (EBUSY), so a
 * live build's are safe even from a wrong judgement. Returns how many were removed. */
int cgfs_sweep(void);

#endif
