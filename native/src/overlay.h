/* Mounting an overlayfs from a list of lowerdirs: shared by the N-API addon and the sandbox launcher. */
#ifndef TSBUILD_OVERLAY_H
#define TSBUILD_OVERLAY_H

#include <stddef.h>
#include "syserr.h"

struct overlay_spec {
	const char *const *lowerdirs; /* nearest (topmost) first */
	size_t nlower;
	const char *upperdir;         /* NULL: read-only overlay */
	const char *workdir;
	const char *const *options;   /* extra "key=value" / "flag" options; override the defaults */
	size_t noptions;
};

/* Mounts the overlay at target. index, redirect_dir and metacopy are off unless options say
 * otherwise: the differ reads the upperdir directly and cannot follow those features.
 * Returns 0, or -1 with *err filled in. */
int overlay_mount(const char *target, const struct overlay_spec *spec, struct syserr *err);

#endif
