/* The sandbox spec (JSON from Node), as C structs. Host paths are made absolute on load. */
#ifndef TSBUILD_SANDBOX_SPEC_H
#define TSBUILD_SANDBOX_SPEC_H

#include <stddef.h>

#include "sandbox_cgroup.h"
#include "sandbox_rlimit.h"

struct spec_mount {
	const char *type;    /* "bind" | "tmpfs" | any filesystem type */
	const char *source;  /* host path for bind */
	const char *target;  /* path in the container */
	const char **options;
	size_t noptions;
};

struct sandbox_spec {
	const char **lowerdirs; /* nearest first */
	size_t nlower;
	const char *upperdir, *workdir;
	const char **root_options; /* extra overlay options, e.g. "volatile" */
	size_t nroot_options;
	int readonly;
	struct spec_mount *mounts;
	size_t nmounts;
	const char **args; /* NULL-terminated */
	const char **env;  /* NULL-terminated */
	const char *cwd;
	const char *user;     /* NULL: root */
	const char *hostname; /* never NULL */
	int network_none;
	const char *etc_hosts;   /* NULL: default localhost entries */
	const char *resolv_conf; /* NULL: the host's */
	int has_cgroup;
	struct cgroup_limits limits;
	struct spec_rlimit *rlimits;
	size_t nrlimits;
	long long shm_size; /* bytes of /dev/shm; 0: the default, 64 MiB */
};

/* Parses the spec's JSON text; dies naming `source` (the file, or "fd N") and the bad field. */
void spec_parse(const char *text, const char *source, struct sandbox_spec *spec);

/* Everything readable from fd until EOF, NUL-terminated (a read error ends it early). */
char *spec_read_fd(int fd);

/* A whole file, NUL-terminated; dies if it cannot be opened. */
char *spec_read_file(const char *path);

#endif
