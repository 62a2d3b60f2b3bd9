/* How mountpoints stay out of the snapshot: every mountpoint the container needs (/proc, /dev,
 * /etc/hosts, mount targets, and each of their parents) is created in a "stub layer", a tmpfs
 * directory stacked as the topmost lowerdir. Mounting over a lower entry copies nothing up, so
 * the upperdir gets only what the command writes, and the stub layer vanishes with the mount
 * namespace even if the launcher is killed. Stub directories copy the mode, owner and times of
 * the real directory they shadow, so a later copy-up (the command writes into /etc) is faithful.
 * Only a root with no lowerdirs and no workdir is a plain bind of the upperdir: there stubs are
 * made in place and removed after the command. */
#define _GNU_SOURCE
#include "sandbox_rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "overlay.h"
#include "sandbox_report.h"

/* Staging tmpfs (mounted over the host's /tmp, in our namespace only, as bubblewrap does). */
#define STAGE "/tmp"
#define OLDROOT "/oldroot" /* the host's root, once the staging tmpfs is root */
#define NEWROOT "/newroot"
#define STUBS "/stubs"
#define FILES "/files"

static const struct sandbox_spec *spec;

/* Stubs made in place (plain bind root only), in creation order, as container paths. */
static char **made_stubs;
static size_t nmade_stubs;
static char **mounted; /* container paths mounted over the root, in mount order */
static size_t nmounted;

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	return s;
}

static void push(char ***list, size_t *n, const char *s)
{
	*list = realloc(*list, (*n + 1) * sizeof **list);
	if (!*list)
		abort();
	(*list)[(*n)++] = strdup(s);
}

static int plain_bind_root(void)
{
	return spec->nlower == 0 && !spec->workdir;
}

static void xmount(const char *source, const char *target, const char *fstype, unsigned long flags,
		   const char *data)
{
	if (mount(source, target, fstype, flags, data) < 0)
		die("mount %s on '%s': %s", fstype ? fstype : source ? source : "(remount)", target, strerror(errno));
}

/* The entry the merged root would show at container path rel, looked up layer by layer. */
static int find_in_layers(const char *rel, struct stat *st)
{
	for (size_t i = 0; i <= spec->nlower; i++) {
		const char *layer = i == 0 ? spec->upperdir : spec->lowerdirs[i - 1];
		if (!layer)
			continue;
		char *p = xasprintf(OLDROOT "%s%s", layer, rel);
		int found = lstat(p, st) == 0;
		free(p);
		if (found)
			return !(S_ISCHR(st->st_mode) && st->st_rdev == 0); /* a whiteout hides it */
	}
	return 0;
}

static void create_stub(const char *path, const char *rel, int is_dir)
{
	struct stat real;
	int have = find_in_layers(rel, &real) && (S_ISDIR(real.st_mode) == is_dir);
	mode_t mode = have ? real.st_mode & 07777 : is_dir ? 0755 : 0644;
	if (is_dir ? mkdir(path, mode) : mknod(path, S_IFREG | mode, 0))
		die_sys(is_dir ? "mkdir" : "mknod", path);
	if (!have)
		return;
	struct timespec times[2] = { real.st_atim, real.st_mtim };
	if (chmod(path, mode) < 0)
		die_sys("chmod", path);
	if (lchown(path, real.st_uid, real.st_gid) < 0)
		die_sys("lchown", path);
	if (utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW) < 0)
		die_sys("utimensat", path);
}

/* Creates container path rel and its parents under base unless present; `record`: remember
 * them for removal after the command. */
static void ensure_stub(const char *base, const char *rel, int is_dir, int record)
{
	char *path = xasprintf("%s%s", base, rel);
	size_t skip = strlen(base);
	for (char *slash = path + skip + 1;; slash++) {
		int last = (slash = strchr(slash, '/')) == NULL;
		if (!last)
			*slash = 0;
		struct stat st;
		if (lstat(path, &st) == 0) {
			if (S_ISLNK(st.st_mode))
				die("mount target '%s' crosses a symlink at '%s'", rel, path + skip);
		} else if (errno == ENOENT) {
			create_stub(path, path + skip, last ? is_dir : 1);
			if (record)
				push(&made_stubs, &nmade_stubs, path + skip);
		} else {
			die_sys("lstat", path);
		}
		if (last)
			break;
		*slash = '/';
	}
	free(path);
}

/* A mount target that only appears once an earlier mount is in place (nested mounts). */
static void ensure_nested_target(const char *path, int is_dir)
{
	struct stat st;
	if (lstat(path, &st) == 0 || errno != ENOENT)
		return;
	ensure_stub("", path, is_dir, 0);
}

static int bind_source_is_dir(const struct spec_mount *m)
{
	struct stat st;
	char *p = xasprintf(OLDROOT "%s", m->source);
	if (stat(p, &st) < 0)
		die("bind mount source '%s': %s", m->source, strerror(errno));
	free(p);
	return S_ISDIR(st.st_mode);
}

static int is_bind(const struct spec_mount *m)
{
	return strcmp(m->type, "bind") == 0;
}

/* Every mountpoint the container needs; each becomes a stub. */
static void make_mountpoints(const char *base)
{
	int record = plain_bind_root();
	ensure_stub(base, "/proc", 1, record);
	ensure_stub(base, "/dev", 1, record);
	ensure_stub(base, "/sys", 1, record);
	ensure_stub(base, "/etc/hosts", 0, record);
	ensure_stub(base, "/etc/resolv.conf", 0, record);
	for (size_t i = 0; i < spec->nmounts; i++) {
		const struct spec_mount *m = &spec->mounts[i];
		ensure_stub(base, m->target, is_bind(m) ? bind_source_is_dir(m) : 1, record);
	}
}

static void mount_root(void)
{
	if (mkdir(NEWROOT, 0755) < 0)
		die_sys("mkdir", NEWROOT);
	if (plain_bind_root()) {
		char *upper = xasprintf(OLDROOT "%s", spec->upperdir);
		xmount(upper, NEWROOT, NULL, MS_BIND | MS_REC, NULL);
		free(upper);
		make_mountpoints(NEWROOT);
		if (spec->readonly)
			xmount(NULL, NEWROOT, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
		return;
	}
	if (mkdir(STUBS, 0755) < 0)
		die_sys("mkdir", STUBS);
	make_mountpoints(STUBS);
	const char **lowers = calloc(spec->nlower + 1, sizeof *lowers);
	const char **options = calloc(spec->nroot_options + 1, sizeof *options);
	if (!lowers || !options)
		abort();
	lowers[0] = STUBS;
	for (size_t i = 0; i < spec->nlower; i++)
		lowers[i + 1] = xasprintf(OLDROOT "%s", spec->lowerdirs[i]);
	memcpy(options, spec->root_options, spec->nroot_options * sizeof *options);
	if (spec->readonly)
		options[spec->nroot_options] = "ro";
	struct overlay_spec o = {
		.lowerdirs = lowers,
		.nlower = spec->nlower + 1,
		.upperdir = spec->upperdir ? xasprintf(OLDROOT "%s", spec->upperdir) : NULL,
		.workdir = spec->workdir ? xasprintf(OLDROOT "%s", spec->workdir) : NULL,
		.options = options,
		.noptions = spec->nroot_options + (spec->readonly ? 1 : 0),
	};
	struct syserr err;
	if (overlay_mount(NEWROOT, &o, &err) < 0) {
		/* Name host paths, not our /oldroot view of them. */
		const char *path = strncmp(err.path, OLDROOT, strlen(OLDROOT)) == 0 ? err.path + strlen(OLDROOT) : err.path;
		const char *at = strstr(path, "=" OLDROOT);
		char shown[sizeof err.path + sizeof err.detail];
		if (at)
			snprintf(shown, sizeof shown, "%.*s=%s", (int)(at - path), path, at + 1 + strlen(OLDROOT));
		else
			snprintf(shown, sizeof shown, "%s", path);
		die("overlay root: %s '%s': %s%s%s%s", err.syscall, shown, strerror(err.errnum),
		    err.detail[0] ? " (" : "", err.detail, err.detail[0] ? ")" : "");
	}
}

static void write_file(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die_sys("open", path);
	size_t len = strlen(content);
	if (write(fd, content, len) != (ssize_t)len)
		die_sys("write", path);
	close(fd);
}

static void mount_at(const char *source, const char *rel, const char *fstype, unsigned long flags, const char *data)
{
	char *target = xasprintf(NEWROOT "%s", rel);
	xmount(source, target, fstype, flags, data);
	push(&mounted, &nmounted, rel);
	free(target);
}

static void setup_dev(void)
{
	mount_at("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=65536k");
	static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
	for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
		char *host = xasprintf(OLDROOT "/dev/%s", nodes[i]), *path = xasprintf(NEWROOT "/dev/%s", nodes[i]);
		if (mknod(path, S_IFREG | 0666, 0) < 0)
			die_sys("mknod", path);
		xmount(host, path, NULL, MS_BIND, NULL);
		free(host);
		free(path);
	}
	static const char *const links[][2] = {
		{ "/proc/self/fd", "fd" },	  { "/proc/self/fd/0", "stdin" }, { "/proc/self/fd/1", "stdout" },
		{ "/proc/self/fd/2", "stderr" }, { "pts/ptmx", "ptmx" },
	};
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		char *path = xasprintf(NEWROOT "/dev/%s", links[i][1]);
		if (symlink(links[i][0], path) < 0)
			die_sys("symlink", path);
		free(path);
	}
	if (mkdir(NEWROOT "/dev/pts", 0755) < 0 || mkdir(NEWROOT "/dev/shm", 01777) < 0)
		die_sys("mkdir", NEWROOT "/dev/pts");
	xmount("devpts", NEWROOT "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
	char *shm = xasprintf("mode=1777,size=%lld", spec->shm_size ? spec->shm_size : 64LL << 20); /* --shm-size */
	xmount("shm", NEWROOT "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, shm);
	free(shm);
}

/* Options that are mount flags rather than filesystem data; returns 0 for filesystem data. */
static int mount_flag(const char *opt, unsigned long *flags)
{
	static const struct {
		const char *name;
		unsigned long flag;
	} known[] = { { "ro", MS_RDONLY }, { "nosuid", MS_NOSUID }, { "nodev", MS_NODEV }, { "noexec", MS_NOEXEC },
		      { "rw", 0 },	   { "rbind", 0 },	  { "bind", 0 } };
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(opt, known[i].name) == 0) {
			*flags |= known[i].flag;
			return 1;
		}
	return 0;
}

static void mount_extra(const struct spec_mount *m)
{
	unsigned long flags = 0;
	int recursive = 1;
	char *data = calloc(1, 1);
	for (size_t i = 0; i < m->noptions; i++) {
		if (strcmp(m->options[i], "bind") == 0)
			recursive = 0;
		if (mount_flag(m->options[i], &flags))
			continue;
		char *more = xasprintf("%s%s%s", data, *data ? "," : "", m->options[i]);
		free(data);
		data = more;
	}
	char *target = xasprintf(NEWROOT "%s", m->target);
	if (!is_bind(m)) {
		ensure_nested_target(target, 1);
		mount_at(m->source, m->target, m->type, flags, *data ? data : NULL);
	} else {
		ensure_nested_target(target, bind_source_is_dir(m));
		char *source = xasprintf(OLDROOT "%s", m->source);
		mount_at(source, m->target, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL);
		/* Bind mounts ignore flags at creation; set them on the new mount (and its submounts). */
		struct mount_attr attr = { 0 };
		attr.attr_set = (flags & MS_RDONLY ? MOUNT_ATTR_RDONLY : 0) | (flags & MS_NOSUID ? MOUNT_ATTR_NOSUID : 0) |
				(flags & MS_NODEV ? MOUNT_ATTR_NODEV : 0) | (flags & MS_NOEXEC ? MOUNT_ATTR_NOEXEC : 0);
		if (attr.attr_set && mount_setattr(AT_FDCWD, target, recursive ? AT_RECURSIVE : 0, &attr, sizeof attr) < 0)
			die_sys("mount_setattr", m->target);
		free(source);
	}
	free(target);
	free(data);
}

static void pivot_into(const char *new_root)
{
	/* pivot_root(".", "."): the old root ends up stacked on the new one, then is detached;
	 * no put_old directory is needed inside the container's tree. */
	if (chdir(new_root) < 0)
		die_sys("chdir", new_root);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die_sys("pivot_root", new_root);
	if (umount2(".", MNT_DETACH) < 0)
		die_sys("umount2", "old root");
	if (chdir("/") < 0)
		die_sys("chdir", "/");
}

void rootfs_setup(const struct sandbox_spec *s)
{
	spec = s;
	xmount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	xmount("tmpfs", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m");
	if (mkdir(STAGE OLDROOT, 0700) < 0)
		die_sys("mkdir", STAGE OLDROOT);
	if (chdir(STAGE) < 0 || syscall(SYS_pivot_root, ".", "." OLDROOT) < 0 || chdir("/") < 0)
		die_sys("pivot_root", STAGE);

	mount_root();
	mount_at("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	setup_dev();
	mount_at("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (mkdir(FILES, 0755) < 0)
		die_sys("mkdir", FILES);
	char *hosts = s->etc_hosts ? NULL
				   : xasprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
					       "127.0.1.1\t%s\n",
					       s->hostname);
	write_file(FILES "/hosts", s->etc_hosts ? s->etc_hosts : hosts);
	write_file(FILES "/resolv.conf", s->resolv_conf ? s->resolv_conf : "");
	mount_at(FILES "/hosts", "/etc/hosts", NULL, MS_BIND, NULL);
	mount_at(FILES "/resolv.conf", "/etc/resolv.conf", NULL, MS_BIND, NULL);
	for (size_t i = 0; i < s->nmounts; i++)
		mount_extra(&s->mounts[i]);
	pivot_into(NEWROOT);
	free(hosts);
}

void rootfs_remove_stubs(void)
{
	if (!plain_bind_root())
		return; /* stubs live in the stub layer, which goes away with the namespace */
	for (size_t i = nmounted; i-- > 0;)
		umount2(mounted[i], MNT_DETACH);
	for (size_t i = nmade_stubs; i-- > 0;) {
		struct stat st;
		if (lstat(made_stubs[i], &st) < 0)
			continue;
		/* Only what is still an empty stub: the command may have put content there. */
		if (S_ISDIR(st.st_mode))
			rmdir(made_stubs[i]);
		else if (S_ISREG(st.st_mode) && st.st_size == 0)
			unlink(made_stubs[i]);
	}
}

void network_loopback_up(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		die_sys("ioctl SIOCGIFFLAGS", "lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		die_sys("ioctl SIOCSIFFLAGS", "lo");
	close(fd);
}
