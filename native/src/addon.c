/*
 * N-API addon: the few system calls Node's fs lacks (xattrs on links, mknod, mounts), and a directory
 * listing with every entry lstat'ed in one call (Node pays ~6 us and a Stats object per lstatSync).
 */
#define _GNU_SOURCE
#include <node_api.h>

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "cgroup_fs.h"
#include "overlay.h"

/* Strings taken from JS arguments during one call, freed together when it returns. */
struct args {
	char *owned[8];
	size_t n;
	char **lists[2];
	size_t nlists;
};

static void args_free(struct args *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->owned[i]);
	for (size_t i = 0; i < a->nlists; i++) {
		for (char **p = a->lists[i]; p && *p; p++)
			free(*p);
		free(a->lists[i]);
	}
}

/* Throws like Node's fs: "ENOENT: no such file or directory, lgetxattr '/x'" with code/errno/syscall/path. */
static void throw_syserr(napi_env env, const struct syserr *e)
{
	const char *code = strerrorname_np(e->errnum);
	const char *desc = strerrordesc_np(e->errnum);
	char msg[PATH_MAX + 1024], lower[256];
	snprintf(lower, sizeof lower, "%s", desc ? desc : "unknown error");
	lower[0] = (char)tolower((unsigned char)lower[0]);
	int n = snprintf(msg, sizeof msg, "%s: %s, %s", code ? code : "EUNKNOWN", lower, e->syscall);
	if (e->path[0])
		n += snprintf(msg + n, sizeof msg - (size_t)n, " '%s'", e->path);
	if (e->detail[0])
		snprintf(msg + n, sizeof msg - (size_t)n, " (%s)", e->detail);
	napi_value jcode, jmsg, err, v;
	napi_create_string_utf8(env, code ? code : "EUNKNOWN", NAPI_AUTO_LENGTH, &jcode);
	napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &jmsg);
	napi_create_error(env, jcode, jmsg, &err);
	napi_create_int32(env, -e->errnum, &v);
	napi_set_named_property(env, err, "errno", v);
	napi_set_named_property(env, err, "code", jcode);
	napi_create_string_utf8(env, e->syscall, NAPI_AUTO_LENGTH, &v);
	napi_set_named_property(env, err, "syscall", v);
	if (e->path[0]) {
		napi_create_string_utf8(env, e->path, NAPI_AUTO_LENGTH, &v);
		napi_set_named_property(env, err, "path", v);
	}
	napi_throw(env, err);
}

static napi_value throw_errno(napi_env env, const char *syscall, const char *path)
{
	struct syserr e = { 0 };
	syserr_set(&e, errno, syscall, path);
	throw_syserr(env, &e);
	return NULL;
}

static void throw_type(napi_env env, const char *what, const char *expected)
{
	char msg[160];
	snprintf(msg, sizeof msg, "%s must be %s", what, expected);
	napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
}

/* A JS string as a malloc'd C string; NULL (after throwing) if it is not a string. */
static char *to_cstring(napi_env env, napi_value v, const char *what)
{
	size_t len;
	if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
		throw_type(env, what, "a string");
		return NULL;
	}
	char *s = malloc(len + 1);
	if (!s)
		abort();
	napi_get_value_string_utf8(env, v, s, len + 1, &len);
	return s;
}

/* A string argument, or NULL for undefined/null (allowed only if `optional`). Throws on a wrong type. */
static int get_string(napi_env env, struct args *a, napi_value v, int optional, const char *what, char **out)
{
	napi_valuetype t;
	napi_typeof(env, v, &t);
	*out = NULL;
	if (optional && (t == napi_undefined || t == napi_null))
		return 0;
	if (a->n == sizeof a->owned / sizeof a->owned[0])
		abort();
	if (!(*out = to_cstring(env, v, what)))
		return -1;
	a->owned[a->n++] = *out;
	return 0;
}

/* A string[] argument as a NULL-terminated array; undefined means empty. */
static int get_string_list(napi_env env, struct args *a, napi_value v, const char *what, char ***out, uint32_t *count)
{
	napi_valuetype t;
	napi_typeof(env, v, &t);
	bool is_array = false;
	napi_is_array(env, v, &is_array);
	*count = 0;
	if (t != napi_undefined && !is_array) {
		throw_type(env, what, "an array of strings");
		return -1;
	}
	if (is_array)
		napi_get_array_length(env, v, count);
	char **list = calloc(*count + 1, sizeof *list);
	if (!list)
		abort();
	a->lists[a->nlists++] = list;
	for (uint32_t i = 0; i < *count; i++) {
		napi_value item;
		napi_get_element(env, v, i, &item);
		if (!(list[i] = to_cstring(env, item, what)))
			return -1;
	}
	*out = list;
	return 0;
}

static int get_u32(napi_env env, napi_value v, const char *what, uint32_t *out)
{
	napi_valuetype t;
	napi_typeof(env, v, &t);
	if (t == napi_undefined) {
		*out = 0;
		return 0;
	}
	if (t != napi_number) {
		throw_type(env, what, "a number");
		return -1;
	}
	napi_get_value_uint32(env, v, out);
	return 0;
}

#define ARGS(n)                                                   \
	size_t argc = n;                                          \
	napi_value argv[n];                                       \
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);     \
	for (size_t i_ = argc; i_ < n; i_++)                      \
		napi_get_undefined(env, &argv[i_]);               \
	struct args a = { 0 };                                    \
	napi_value ret = NULL

#define TRY(expr)             \
	do {                  \
		if ((expr) < 0) \
			goto out; \
	} while (0)

static napi_value js_lgetxattr(napi_env env, napi_callback_info info)
{
	ARGS(2);
	char *path, *name;
	TRY(get_string(env, &a, argv[0], 0, "path", &path));
	TRY(get_string(env, &a, argv[1], 0, "name", &name));
	for (;;) {
		ssize_t size = lgetxattr(path, name, NULL, 0);
		if (size < 0) {
			if (errno == ENODATA)
				napi_get_null(env, &ret);
			else
				throw_errno(env, "lgetxattr", path);
			goto out;
		}
		void *data;
		napi_value buf;
		napi_create_buffer(env, (size_t)size, &data, &buf);
		ssize_t got = lgetxattr(path, name, data, (size_t)size);
		if (got >= 0) {
			/* A shorter value may have been set in between: return exactly what was read. */
			napi_value subarray, argv2[2];
			if (got == size) {
				ret = buf;
				goto out;
			}
			napi_get_named_property(env, buf, "subarray", &subarray);
			napi_create_int32(env, 0, &argv2[0]);
			napi_create_int64(env, got, &argv2[1]);
			napi_call_function(env, buf, subarray, 2, argv2, &ret);
			goto out;
		}
		if (errno != ERANGE) { /* ERANGE: it grew in between, ask again */
			throw_errno(env, "lgetxattr", path);
			goto out;
		}
	}
out:
	args_free(&a);
	return ret;
}

static napi_value js_llistxattr(napi_env env, napi_callback_info info)
{
	ARGS(1);
	char *path, *names = NULL;
	TRY(get_string(env, &a, argv[0], 0, "path", &path));
	ssize_t size;
	for (;;) {
		size = llistxattr(path, NULL, 0);
		if (size < 0) {
			throw_errno(env, "llistxattr", path);
			goto out;
		}
		names = realloc(names, (size_t)size + 1);
		size = llistxattr(path, names, (size_t)size);
		if (size >= 0)
			break;
		if (errno != ERANGE) {
			throw_errno(env, "llistxattr", path);
			goto out;
		}
	}
	napi_create_array(env, &ret);
	uint32_t i = 0;
	for (ssize_t off = 0; off < size; off += (ssize_t)strlen(names + off) + 1) {
		napi_value s;
		napi_create_string_utf8(env, names + off, NAPI_AUTO_LENGTH, &s);
		napi_set_element(env, ret, i++, s);
	}
out:
	free(names);
	args_free(&a);
	return ret;
}

static napi_value js_lsetxattr(napi_env env, napi_callback_info info)
{
	ARGS(3);
	char *path, *name;
	TRY(get_string(env, &a, argv[0], 0, "path", &path));
	TRY(get_string(env, &a, argv[1], 0, "name", &name));
	void *data = NULL;
	size_t len = 0;
	bool is_buffer = false;
	napi_is_buffer(env, argv[2], &is_buffer);
	if (is_buffer) {
		napi_get_buffer_info(env, argv[2], &data, &len);
	} else {
		char *s;
		TRY(get_string(env, &a, argv[2], 0, "value", &s));
		data = s;
		len = strlen(s);
	}
	if (lsetxattr(path, name, data, len, 0) < 0)
		throw_errno(env, "lsetxattr", path);
out:
	args_free(&a);
	return ret;
}

static napi_value js_lremovexattr(napi_env env, napi_callback_info info)
{
	ARGS(2);
	char *path, *name;
	TRY(get_string(env, &a, argv[0], 0, "path", &path));
	TRY(get_string(env, &a, argv[1], 0, "name", &name));
	if (lremovexattr(path, name) < 0)
		throw_errno(env, "lremovexattr", path);
out:
	args_free(&a);
	return ret;
}

static napi_value js_mknod(napi_env env, napi_callback_info info)
{
	ARGS(4);
	char *path;
	uint32_t mode, major, minor;
	TRY(get_string(env, &a, argv[0], 0, "path", &path));
	TRY(get_u32(env, argv[1], "mode", &mode));
	TRY(get_u32(env, argv[2], "major", &major));
	TRY(get_u32(env, argv[3], "minor", &minor));
	if (mknod(path, mode, makedev(major, minor)) < 0)
		throw_errno(env, "mknod", path);
out:
	args_free(&a);
	return ret;
}

/* flock(fd, op): op 1 takes an exclusive lock without waiting (true, or false when another open file
 * holds it), 0 releases. A lock dies with its holder's last descriptor, so a killed process leaves none. */
static napi_value js_flock(napi_env env, napi_callback_info info)
{
	ARGS(2);
	uint32_t fd, op;
	TRY(get_u32(env, argv[0], "fd", &fd));
	TRY(get_u32(env, argv[1], "op", &op));
	int rc;
	do
		rc = flock((int)fd, op ? LOCK_EX | LOCK_NB : LOCK_UN);
	while (rc < 0 && errno == EINTR);
	if (rc < 0 && errno != EWOULDBLOCK) {
		throw_errno(env, "flock", "lock file");
		goto out;
	}
	napi_get_boolean(env, rc == 0, &ret);
out:
	args_free(&a);
	return ret;
}

/* mountOverlay(target, lowerdirs, upperdir?, workdir?, options?) */
static napi_value js_mount_overlay(napi_env env, napi_callback_info info)
{
	ARGS(5);
	char *target, *upper, *work, **lowers, **options;
	uint32_t nlower, nopt;
	TRY(get_string(env, &a, argv[0], 0, "target", &target));
	TRY(get_string_list(env, &a, argv[1], "lowerdirs", &lowers, &nlower));
	TRY(get_string(env, &a, argv[2], 1, "upperdir", &upper));
	TRY(get_string(env, &a, argv[3], 1, "workdir", &work));
	TRY(get_string_list(env, &a, argv[4], "options", &options, &nopt));
	struct overlay_spec spec = {
		.lowerdirs = (const char *const *)lowers,
		.nlower = nlower,
		.upperdir = upper,
		.workdir = work,
		.options = (const char *const *)options,
		.noptions = nopt,
	};
	struct syserr err;
	if (overlay_mount(target, &spec, &err) < 0)
		throw_syserr(env, &err);
out:
	args_free(&a);
	return ret;
}

/* mount(source, target, fstype, flags, data?) */
static napi_value js_mount(napi_env env, napi_callback_info info)
{
	ARGS(5);
	char *source, *target, *fstype, *data;
	uint32_t flags;
	TRY(get_string(env, &a, argv[0], 0, "source", &source));
	TRY(get_string(env, &a, argv[1], 0, "target", &target));
	TRY(get_string(env, &a, argv[2], 0, "fstype", &fstype));
	TRY(get_u32(env, argv[3], "flags", &flags));
	TRY(get_string(env, &a, argv[4], 1, "data", &data));
	if (mount(source, target, fstype, flags, data) < 0)
		throw_errno(env, "mount", target);
out:
	args_free(&a);
	return ret;
}

/* umount(target, flags?) */
static napi_value js_umount(napi_env env, napi_callback_info info)
{
	ARGS(2);
	char *target;
	uint32_t flags;
	TRY(get_string(env, &a, argv[0], 0, "target", &target));
	TRY(get_u32(env, argv[1], "flags", &flags));
	if (umount2(target, (int)flags) < 0)
		throw_errno(env, "umount2", target);
out:
	args_free(&a);
	return ret;
}

/* Per entry in lstatDir's Float64Array, in this order (native/index.ts LSTAT_FIELDS mirrors it). Every
 * value is exact in a double: 64-bit dev and ino are split into 32-bit halves. */
enum {
	F_MODE, F_UID, F_GID, F_NLINK, F_SIZE, F_DEV_HI, F_DEV_LO, F_INO_HI, F_INO_LO, F_RDEV_HI, F_RDEV_LO,
	F_ATIME_S, F_ATIME_NS, F_MTIME_S, F_MTIME_NS, F_CTIME_S, F_CTIME_NS, F_COUNT
};

struct dir_entry {
	char *name;
	struct stat st;
};

static void fill_fields(double *f, const struct stat *st)
{
	f[F_MODE] = st->st_mode;
	f[F_UID] = st->st_uid;
	f[F_GID] = st->st_gid;
	f[F_NLINK] = (double)st->st_nlink;
	f[F_SIZE] = (double)st->st_size;
	f[F_DEV_HI] = (double)((uint64_t)st->st_dev >> 32);
	f[F_DEV_LO] = (double)((uint64_t)st->st_dev & 0xffffffffu);
	f[F_INO_HI] = (double)((uint64_t)st->st_ino >> 32);
	f[F_INO_LO] = (double)((uint64_t)st->st_ino & 0xffffffffu);
	f[F_RDEV_HI] = (double)((uint64_t)st->st_rdev >> 32);
	f[F_RDEV_LO] = (double)((uint64_t)st->st_rdev & 0xffffffffu);
	f[F_ATIME_S] = (double)st->st_atim.tv_sec;
	f[F_ATIME_NS] = (double)st->st_atim.tv_nsec;
	f[F_MTIME_S] = (double)st->st_mtim.tv_sec;
	f[F_MTIME_NS] = (double)st->st_mtim.tv_nsec;
	f[F_CTIME_S] = (double)st->st_ctim.tv_sec;
	f[F_CTIME_NS] = (double)st->st_ctim.tv_nsec;
}

/*
 * lstatDir(dir) -> [names, Float64Array(F_COUNT * names.length)]: the entries of dir in readdir order,
 * without "." and "..". An entry removed between the listing and its lstat is left out, as if the
 * listing had come a moment later.
 */
static napi_value js_lstat_dir(napi_env env, napi_callback_info info)
{
	ARGS(1);
	char *dir;
	struct dir_entry *entries = NULL;
	size_t n = 0, cap = 0;
	DIR *d = NULL;
	TRY(get_string(env, &a, argv[0], 0, "dir", &dir));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || !(d = fdopendir(dfd))) {
		throw_errno(env, "scandir", dir);
		if (dfd >= 0)
			close(dfd);
		goto out;
	}
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno) {
				throw_errno(env, "scandir", dir);
				goto out;
			}
			break;
		}
		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if (!(entries = realloc(entries, cap * sizeof *entries)))
				abort();
		}
		if (fstatat(dfd, de->d_name, &entries[n].st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			char path[PATH_MAX];
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			throw_errno(env, "lstat", path);
			goto out;
		}
		if (!(entries[n].name = strdup(de->d_name)))
			abort();
		n++;
	}
	napi_value names, buffer, fields;
	void *data;
	napi_create_array_with_length(env, n, &names);
	napi_create_arraybuffer(env, n * F_COUNT * sizeof(double), &data, &buffer);
	napi_create_typedarray(env, napi_float64_array, n * F_COUNT, buffer, 0, &fields);
	for (size_t i = 0; i < n; i++) {
		napi_value name;
		napi_create_string_utf8(env, entries[i].name, NAPI_AUTO_LENGTH, &name);
		napi_set_element(env, names, (uint32_t)i, name);
		fill_fields((double *)data + i * F_COUNT, &entries[i].st);
	}
	napi_create_array_with_length(env, 2, &ret);
	napi_set_element(env, ret, 0, names);
	napi_set_element(env, ret, 1, fields);
out:
	if (d)
		closedir(d);
	for (size_t i = 0; i < n; i++)
		free(entries[i].name);
	free(entries);
	args_free(&a);
	return ret;
}

/* sweepCgroups(): removes the RUN cgroups whose owner died (cgroup_fs.h); returns how many. */
static napi_value js_sweep_cgroups(napi_env env, napi_callback_info info)
{
	(void)info;
	napi_value n;
	napi_create_int32(env, cgfs_sweep(), &n);
	return n;
}

static void set_u32(napi_env env, napi_value obj, const char *name, uint32_t value)
{
	napi_value v;
	napi_create_uint32(env, value, &v);
	napi_set_named_property(env, obj, name, v);
}

static napi_value init(napi_env env, napi_value exports)
{
	const napi_property_descriptor fns[] = {
		{ "lgetxattr", NULL, js_lgetxattr, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "llistxattr", NULL, js_llistxattr, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "lsetxattr", NULL, js_lsetxattr, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "lremovexattr", NULL, js_lremovexattr, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "mknod", NULL, js_mknod, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "mountOverlay", NULL, js_mount_overlay, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "mount", NULL, js_mount, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "umount", NULL, js_umount, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "lstatDir", NULL, js_lstat_dir, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "flock", NULL, js_flock, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "sweepCgroups", NULL, js_sweep_cgroups, NULL, NULL, NULL, napi_enumerable, NULL },
	};
	napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
	napi_value ms;
	napi_create_object(env, &ms);
	set_u32(env, ms, "RDONLY", MS_RDONLY);
	set_u32(env, ms, "BIND", MS_BIND);
	set_u32(env, ms, "REC", MS_REC);
	set_u32(env, ms, "PRIVATE", MS_PRIVATE);
	set_u32(env, ms, "SLAVE", MS_SLAVE);
	set_u32(env, ms, "NOSUID", MS_NOSUID);
	set_u32(env, ms, "NODEV", MS_NODEV);
	set_u32(env, ms, "NOEXEC", MS_NOEXEC);
	set_u32(env, ms, "REMOUNT", MS_REMOUNT);
	napi_set_named_property(env, exports, "MS", ms);
	set_u32(env, exports, "MNT_DETACH", MNT_DETACH);
	return exports;
}

NAPI_MODULE_INIT()
{
	return init(env, exports);
}
