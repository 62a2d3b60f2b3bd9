/* A RUN's ulimits (--ulimit name=soft[:hard]): set on the sandbox's pid 1 by the launcher, before pid 1
 * has the spec, so that the command and everything it starts inherit them. */
#ifndef TSBUILD_SANDBOX_RLIMIT_H
#define TSBUILD_SANDBOX_RLIMIT_H

#include <stddef.h>
#include <sys/types.h>

struct json;

struct spec_rlimit {
	const char *name; /* "nofile", as docker spells it */
	int resource;     /* RLIMIT_NOFILE */
	long long soft, hard; /* -1: unlimited */
};

/* Parses the spec's "ulimits" array ([{name, soft, hard}]); dies naming a bad entry. */
void rlimit_spec_parse(const struct json *v, const char *source, struct spec_rlimit **out, size_t *count);

/* Sets them on pid. One the kernel refuses (a hard limit raised without CAP_SYS_RESOURCE) kills the
 * launcher with a message naming it: running with other limits than asked would be silently wrong. */
void rlimit_apply(pid_t pid, const struct spec_rlimit *r, size_t count);

#endif
