/* The container's filesystem: overlay root, /proc, /dev, /sys, /etc/hosts, resolv.conf, extra
 * mounts, then pivot_root. Runs inside the new mount and pid namespaces. */
#ifndef TSBUILD_SANDBOX_ROOTFS_H
#define TSBUILD_SANDBOX_ROOTFS_H

#include "sandbox_spec.h"

/* Builds the root and pivots into it; on return "/" is the container's root. Dies on failure. */
void rootfs_setup(const struct sandbox_spec *spec);

/* After the command: unmounts the mounts made over the root and removes the mountpoint stubs that
 * had to be created in it, so the upperdir keeps only what the command wrote. Best effort. */
void rootfs_remove_stubs(void);

/* Brings the loopback interface up (in a new network namespace it starts down). */
void network_loopback_up(void);

#endif
