/* N-API addon: the few system calls Node's fs lacks (xattrs on links, mknod, mounts). */
#define _GNU_SOURCE
#include <node_api.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

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
