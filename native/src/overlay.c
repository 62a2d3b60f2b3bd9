#define _GNU_SOURCE
#include "overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

/* Features the upperdir-scanning differ cannot follow; off unless the caller names them. */
static const char *const default_options[] = { "index=off", "redirect_dir=off", "metacopy=off" };

struct mount_flag {
	const char *name;
	unsigned long ms;        /* mount(2) flag */
	unsigned int attr;       /* fsmount(2) attribute */
};

/* Generic mount flags that arrive among the overlay options (e.g. "ro" from a view). */
static const struct mount_flag mount_flags[] = {
	{ "ro", MS_RDONLY, MOUNT_ATTR_RDONLY },
	{ "nosuid", MS_NOSUID, MOUNT_ATTR_NOSUID },
	{ "nodev", MS_NODEV, MOUNT_ATTR_NODEV },
	{ "noexec", MS_NOEXEC, MOUNT_ATTR_NOEXEC },
	{ "rw", 0, 0 },
};

static const struct mount_flag *find_mount_flag(const char *opt)
{
	for (size_t i = 0; i < sizeof mount_flags / sizeof mount_flags[0]; i++)
		if (strcmp(opt, mount_flags[i].name) == 0)
			return &mount_flags[i];
	return NULL;
}

/* True if the caller's options set the key of `def` ("index=off" -> "index"). */
static int overridden(const struct overlay_spec *s, const char *def)
{
	size_t klen = strcspn(def, "=");
	for (size_t i = 0; i < s->noptions; i++)
		if (strncmp(s->options[i], def, klen) == 0 && (s->options[i][klen] == '=' || s->options[i][klen] == 0))
			return 1;
	return 0;
}

/* The kernel explains fsconfig failures in the fs context's log; keep its last error line. */
static void read_fs_log(int fs, struct syserr *err)
{
	char buf[512];
	ssize_t n;
	while ((n = read(fs, buf, sizeof buf - 1)) > 0) {
		buf[n] = 0;
		if (n > 2 && buf[n - 1] == '\n')
			buf[n - 1] = 0;
		snprintf(err->detail, sizeof err->detail, "%s", buf[1] == ' ' ? buf + 2 : buf);
	}
}

static int fsconfig_fail(int fs, struct syserr *err, const char *key, const char *value)
{
	int e = errno;
	char what[PATH_MAX];
	snprintf(what, sizeof what, "%s%s%s", key, value ? "=" : "", value ? value : "");
	syserr_set(err, e, "fsconfig", what);
	read_fs_log(fs, err);
	close(fs);
	errno = e;
	return -1;
}

/* One option: "key=value" as a string, "flag" as a flag, mount flags as fsmount attributes. */
static int fsconfig_option(int fs, const char *opt, unsigned int *attrs, struct syserr *err)
{
	const struct mount_flag *f = find_mount_flag(opt);
	if (f) {
		*attrs |= f->attr;
		return 0;
	}
	const char *eq = strchr(opt, '=');
	if (!eq)
		return fsconfig(fs, FSCONFIG_SET_FLAG, opt, NULL, 0) < 0 ? fsconfig_fail(fs, err, opt, NULL) : 0;
	char key[128];
	snprintf(key, sizeof key, "%.*s", (int)(eq - opt), opt);
	if (fsconfig(fs, FSCONFIG_SET_STRING, key, eq + 1, 0) < 0)
		return fsconfig_fail(fs, err, key, eq + 1);
	return 0;
}

/* The new mount API: one fsconfig call per lowerdir, so no limit on their number or length.
 * Returns 1 when the kernel lacks it (the caller falls back to mount(2)). */
static int mount_fsopen(const char *target, const struct overlay_spec *s, struct syserr *err)
{
	int fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return errno == ENODEV ? syserr_set(err, errno, "fsopen", "overlay") : 1;
	if (fsconfig(fs, FSCONFIG_SET_STRING, "source", "overlay", 0) < 0)
		return fsconfig_fail(fs, err, "source", "overlay");
	for (size_t i = 0; i < s->nlower; i++) {
		if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", s->lowerdirs[i], 0) < 0) {
			if (i == 0 && errno == EINVAL) { /* before Linux 6.8: no "lowerdir+" */
				close(fs);
				return 1;
			}
			return fsconfig_fail(fs, err, "lowerdir+", s->lowerdirs[i]);
		}
	}
	if (s->upperdir && fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", s->upperdir, 0) < 0)
		return fsconfig_fail(fs, err, "upperdir", s->upperdir);
	if (s->workdir && fsconfig(fs, FSCONFIG_SET_STRING, "workdir", s->workdir, 0) < 0)
		return fsconfig_fail(fs, err, "workdir", s->workdir);
	unsigned int attrs = 0;
	for (size_t i = 0; i < sizeof default_options / sizeof default_options[0]; i++)
		if (!overridden(s, default_options[i]) && fsconfig_option(fs, default_options[i], &attrs, err) < 0)
			return -1;
	for (size_t i = 0; i < s->noptions; i++)
		if (fsconfig_option(fs, s->options[i], &attrs, err) < 0)
			return -1;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		int e = errno;
		syserr_set(err, e, "fsconfig create", target);
		read_fs_log(fs, err);
		if (!err->detail[0]) /* overlayfs explains most layer-set errors only in the kernel log */
			snprintf(err->detail, sizeof err->detail, "overlayfs gives the reason in the kernel log (dmesg)");
		close(fs);
		return -1;
	}
	int mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	int e = errno;
	close(fs);
	if (mnt < 0)
		return syserr_set(err, e, "fsmount", target);
	int rc = move_mount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
	e = errno;
	close(mnt);
	return rc < 0 ? syserr_set(err, e, "move_mount", target) : 0;
}

/* ---- fallback: classic mount(2), whose options must fit in one page ---- */

struct strbuf {
	char *p;
	size_t len, cap;
};

static void sb_putc(struct strbuf *b, char c)
{
	if (b->len + 2 > b->cap) {
		b->cap = b->cap ? b->cap * 2 : 4096;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	b->p[b->len++] = c;
	b->p[b->len] = 0;
}

static void sb_puts(struct strbuf *b, const char *s)
{
	while (*s)
		sb_putc(b, *s++);
}

/* overlayfs splits options at ',' and lowerdirs at ':'; a backslash escapes them. */
static void sb_put_path(struct strbuf *b, const char *path, size_t skip)
{
	for (const char *c = path + skip; *c; c++) {
		if (*c == ',' || *c == ':' || *c == '\\')
			sb_putc(b, '\\');
		sb_putc(b, *c);
	}
}

/* Length of the directory prefix (ending in '/') shared by every path. */
static size_t common_dir_prefix(const struct overlay_spec *s)
{
	const char *first = s->nlower ? s->lowerdirs[0] : s->upperdir;
	size_t len = strlen(first);
	const char *all[3] = { s->upperdir, s->workdir, NULL };
	for (size_t i = 0; i < s->nlower + 2; i++) {
		const char *p = i < s->nlower ? s->lowerdirs[i] : all[i - s->nlower];
		if (!p)
			continue;
		size_t n = 0;
		while (n < len && p[n] && p[n] == first[n])
			n++;
		len = n;
	}
	while (len > 0 && first[len - 1] != '/')
		len--;
	return len;
}

static void build_data(struct strbuf *b, const struct overlay_spec *s, size_t skip, unsigned long *flags)
{
	sb_puts(b, "lowerdir=");
	for (size_t i = 0; i < s->nlower; i++) {
		if (i)
			sb_putc(b, ':');
		sb_put_path(b, s->lowerdirs[i], skip);
	}
	if (s->upperdir) {
		sb_puts(b, ",upperdir=");
		sb_put_path(b, s->upperdir, skip);
		sb_puts(b, ",workdir=");
		sb_put_path(b, s->workdir ? s->workdir : "", skip);
	}
	for (size_t i = 0; i < sizeof default_options / sizeof default_options[0]; i++)
		if (!overridden(s, default_options[i])) {
			sb_putc(b, ',');
			sb_puts(b, default_options[i]);
		}
	for (size_t i = 0; i < s->noptions; i++) {
		const struct mount_flag *f = find_mount_flag(s->options[i]);
		if (f) {
			*flags |= f->ms;
			continue;
		}
		sb_putc(b, ',');
		sb_puts(b, s->options[i]);
	}
}

/* Too long for a page: as containerd does, chdir to the common prefix and pass relative paths.
 * chdir in a forked child, so the caller's (maybe multithreaded) process keeps its cwd. */
static int mount_classic(const char *target, const struct overlay_spec *s, struct syserr *err)
{
	struct strbuf data = { 0 };
	unsigned long flags = 0;
	build_data(&data, s, 0, &flags);
	size_t skip = 0;
	if (data.len >= (size_t)sysconf(_SC_PAGESIZE)) {
		skip = common_dir_prefix(s);
		data.len = 0;
		flags = 0;
		build_data(&data, s, skip, &flags);
	}
	int rc = 0;
	if (data.len >= (size_t)sysconf(_SC_PAGESIZE)) {
		snprintf(err->detail, sizeof err->detail, "overlay options are %zu bytes even relative to %.*s",
			 data.len, (int)skip, s->nlower ? s->lowerdirs[0] : s->upperdir);
		rc = syserr_set(err, E2BIG, "mount", target);
	} else if (skip == 0) {
		if (mount("overlay", target, "overlay", flags, data.p) < 0)
			rc = syserr_set(err, errno, "mount", target);
	} else {
		char abs_target[2 * PATH_MAX + 2], prefix[PATH_MAX];
		if (target[0] != '/' && getcwd(prefix, sizeof prefix))
			snprintf(abs_target, sizeof abs_target, "%s/%s", prefix, target);
		else
			snprintf(abs_target, sizeof abs_target, "%s", target);
		const char *first = s->nlower ? s->lowerdirs[0] : s->upperdir;
		snprintf(prefix, sizeof prefix, "%.*s", (int)skip, first);
		pid_t pid = fork();
		if (pid == 0) {
			if (chdir(prefix) < 0)
				_exit(errno);
			_exit(mount("overlay", abs_target, "overlay", flags, data.p) < 0 ? errno : 0);
		}
		int status = 0;
		if (pid < 0)
			rc = syserr_set(err, errno, "fork", target);
		else if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
			rc = syserr_set(err, ECHILD, "mount", target);
		else if (WEXITSTATUS(status))
			rc = syserr_set(err, WEXITSTATUS(status), "mount", target);
	}
	free(data.p);
	return rc;
}

int overlay_mount(const char *target, const struct overlay_spec *spec, struct syserr *err)
{
	err->errnum = 0;
	err->detail[0] = 0;
	if (spec->nlower == 0) {
		errno = EINVAL;
		snprintf(err->detail, sizeof err->detail, "overlay needs at least one lowerdir");
		return syserr_set(err, EINVAL, "mount", target);
	}
	/* The test suite forces the mount(2) path to exercise it on kernels that have the new API. */
	int rc = getenv("TSBUILD_OVERLAY_FORCE_MOUNT2") ? 1 : mount_fsopen(target, spec, err);
	return rc == 1 ? mount_classic(target, spec, err) : rc;
}
