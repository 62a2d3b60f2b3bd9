/* Resolving the build's user ("uid", "uid:gid", "name", "name:group") in the container's own
 * /etc/passwd and /etc/group, as Docker does. Call after pivot_root. */
#ifndef TSBUILD_SANDBOX_USER_H
#define TSBUILD_SANDBOX_USER_H

#include <stddef.h>
#include <sys/types.h>

struct creds {
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary groups, the primary one included */
	size_t ngroups;
	const char *home; /* from /etc/passwd, "/" when unknown */
};

/* NULL or "" means root. Dies naming the user or group that does not exist. */
void user_resolve(const char *user, struct creds *out);

/* setgroups, setgid, setuid; dies on failure. */
void user_switch(const struct creds *c);

#endif
