#define _GNU_SOURCE
#include "sandbox_user.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox_report.h"

static int parse_id(const char *s, unsigned *out)
{
	char *end;
	if (!*s || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || errno || v > 0xFFFFFFFEUL)
		return 0;
	*out = (unsigned)v;
	return 1;
}

/* The passwd entry matching the name (or the uid when name is NULL), copied; 0 if none. */
static int find_passwd(const char *name, uid_t uid, struct passwd *out)
{
	FILE *f = fopen("/etc/passwd", "re");
	if (!f)
		return 0;
	struct passwd *pw;
	int found = 0;
	while (!found && (pw = fgetpwent(f)))
		if (name ? strcmp(pw->pw_name, name) == 0 : pw->pw_uid == uid) {
			*out = *pw;
			out->pw_name = strdup(pw->pw_name);
			out->pw_dir = strdup(pw->pw_dir);
			found = 1;
		}
	fclose(f);
	return found;
}

static void add_group(struct creds *c, gid_t gid)
{
	for (size_t i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return;
	c->groups = realloc(c->groups, (c->ngroups + 1) * sizeof *c->groups);
	if (!c->groups)
		abort();
	c->groups[c->ngroups++] = gid;
}

/* Resolves a group name (dies if absent) and, for a user name, collects the groups listing it. */
static int scan_groups(const char *group_name, const char *member, struct creds *c)
{
	FILE *f = fopen("/etc/group", "re");
	if (!f)
		return 0;
	struct group *gr;
	int found = 0;
	while ((gr = fgetgrent(f))) {
		if (group_name && strcmp(gr->gr_name, group_name) == 0) {
			c->gid = gr->gr_gid;
			found = 1;
		}
		for (char **m = gr->gr_mem; member && m && *m; m++)
			if (strcmp(*m, member) == 0)
				add_group(c, gr->gr_gid);
	}
	fclose(f);
	return found;
}

void user_resolve(const char *user, struct creds *c)
{
	memset(c, 0, sizeof *c);
	c->home = "/";
	if (!user || !*user)
		user = "0";
	char *name = strdup(user), *group = strchr(name, ':');
	if (group)
		*group++ = 0;
	unsigned id;
	struct passwd pw;
	const char *member = NULL;
	if (parse_id(name, &id)) {
		c->uid = id;
		if (find_passwd(NULL, id, &pw)) {
			c->gid = pw.pw_gid;
			c->home = pw.pw_dir;
			member = pw.pw_name;
		}
	} else if (find_passwd(name, 0, &pw)) {
		c->uid = pw.pw_uid;
		c->gid = pw.pw_gid;
		c->home = pw.pw_dir;
		member = pw.pw_name;
	} else {
		die("user '%s': no such user in the container's /etc/passwd", name);
	}
	if (group && parse_id(group, &id))
		c->gid = id;
	if (!scan_groups(group && !parse_id(group, &id) ? group : NULL, group ? NULL : member, c) && group &&
	    !parse_id(group, &id))
		die("user '%s': no such group '%s' in the container's /etc/group", user, group);
	add_group(c, c->gid);
}

void user_switch(const struct creds *c)
{
	if (setgroups(c->ngroups, c->groups) < 0)
		die("setgroups for uid %u: %s", c->uid, strerror(errno));
	if (setgid(c->gid) < 0)
		die("setgid %u: %s", c->gid, strerror(errno));
	if (setuid(c->uid) < 0)
		die("setuid %u: %s", c->uid, strerror(errno));
}
