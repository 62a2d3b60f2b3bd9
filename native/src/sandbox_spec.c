#define _GNU_SOURCE
#include "sandbox_spec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "sandbox_report.h"

static const char *spec_path;

char *spec_read_fd(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;
	while (buf && (n = read(fd, buf + len, cap - len - 1)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
		if (cap - len < 2)
			buf = realloc(buf, cap *= 2);
	}
	if (!buf)
		abort();
	buf[len] = 0;
	return buf;
}

char *spec_read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die_sys("open", path);
	char *text = spec_read_fd(fd);
	close(fd);
	return text;
}

__attribute__((noreturn)) static void bad(const char *field, const char *expected)
{
	die("spec %s: %s must be %s", spec_path, field, expected);
}

static const char *opt_string(const struct json *obj, const char *key, const char *field)
{
	const struct json *v = json_get(obj, key);
	if (!v || v->type == JSON_NULL)
		return NULL;
	if (v->type != JSON_STRING)
		bad(field, "a string");
	return v->string;
}

/* Host paths relative to the launcher's cwd become absolute: the sandbox reaches them from /oldroot. */
static const char *host_path(const char *p, const char *field)
{
	if (!p || !*p)
		bad(field, "a non-empty path");
	if (p[0] == '/')
		return p;
	char *cwd = getcwd(NULL, 0), *abs;
	if (!cwd || asprintf(&abs, "%s/%s", cwd, p) < 0)
		die_sys("getcwd", p);
	free(cwd);
	return abs;
}

/* A string array as a NULL-terminated list; missing means empty. */
static const char **string_list(const struct json *v, const char *field, size_t *count)
{
	size_t n = 0;
	if (v && v->type != JSON_NULL) {
		if (v->type != JSON_ARRAY)
			bad(field, "an array of strings");
		n = v->len;
	}
	const char **list = calloc(n + 1, sizeof *list);
	if (!list)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (v->items[i]->type != JSON_STRING)
			bad(field, "an array of strings");
		list[i] = v->items[i]->string;
	}
	if (count)
		*count = n;
	return list;
}

static long long opt_number(const struct json *obj, const char *key, const char *field)
{
	const struct json *v = json_get(obj, key);
	if (!v || v->type == JSON_NULL)
		return 0;
	if (v->type != JSON_NUMBER || v->number < 0)
		bad(field, "a non-negative number");
	return (long long)v->number;
}

static void load_root(const struct json *root, struct sandbox_spec *s)
{
	if (!root || root->type != JSON_OBJECT)
		bad("root", "an object");
	s->lowerdirs = string_list(json_get(root, "lowerdirs"), "root.lowerdirs", &s->nlower);
	for (size_t i = 0; i < s->nlower; i++)
		s->lowerdirs[i] = host_path(s->lowerdirs[i], "root.lowerdirs[]");
	s->upperdir = opt_string(root, "upperdir", "root.upperdir");
	s->workdir = opt_string(root, "workdir", "root.workdir");
	if (s->upperdir)
		s->upperdir = host_path(s->upperdir, "root.upperdir");
	if (s->workdir)
		s->workdir = host_path(s->workdir, "root.workdir");
	s->root_options = string_list(json_get(root, "options"), "root.options", &s->nroot_options);
	const struct json *ro = json_get(root, "readonly");
	s->readonly = ro && ro->type == JSON_BOOL && ro->boolean;
	if (s->nlower == 0 && !s->upperdir)
		die("spec %s: root needs lowerdirs or an upperdir", spec_path);
	if (s->upperdir && !s->workdir && s->nlower > 0)
		die("spec %s: root.upperdir %s needs a root.workdir", spec_path, s->upperdir);
}

static void load_mounts(const struct json *v, struct sandbox_spec *s)
{
	if (!v || v->type == JSON_NULL)
		return;
	if (v->type != JSON_ARRAY)
		bad("mounts", "an array");
	s->nmounts = v->len;
	s->mounts = calloc(v->len + 1, sizeof *s->mounts);
	if (!s->mounts)
		abort();
	for (size_t i = 0; i < v->len; i++) {
		const struct json *m = v->items[i];
		struct spec_mount *out = &s->mounts[i];
		if (m->type != JSON_OBJECT)
			bad("mounts[]", "an object");
		out->type = opt_string(m, "type", "mounts[].type");
		out->source = opt_string(m, "source", "mounts[].source");
		out->target = opt_string(m, "target", "mounts[].target");
		if (!out->type || !out->target || out->target[0] != '/')
			bad("mounts[]", "{type, source, target (absolute)}");
		if (!out->source)
			out->source = out->type;
		if (strcmp(out->type, "bind") == 0)
			out->source = host_path(out->source, "mounts[].source");
		out->options = string_list(json_get(m, "options"), "mounts[].options", &out->noptions);
	}
}

void spec_parse(const char *text, const char *source, struct sandbox_spec *s)
{
	spec_path = source;
	char err[256];
	struct json *doc = json_parse(strdup(text), err, sizeof err);
	if (!doc)
		die("spec %s: %s", source, err);
	if (doc->type != JSON_OBJECT)
		bad("the document", "an object");
	memset(s, 0, sizeof *s);
	load_root(json_get(doc, "root"), s);
	load_mounts(json_get(doc, "mounts"), s);
	size_t nargs;
	s->args = string_list(json_get(doc, "args"), "args", &nargs);
	if (nargs == 0)
		bad("args", "a non-empty array of strings");
	s->env = string_list(json_get(doc, "env"), "env", NULL);
	s->cwd = opt_string(doc, "cwd", "cwd");
	if (!s->cwd)
		s->cwd = "/";
	if (s->cwd[0] != '/')
		bad("cwd", "an absolute path");
	s->user = opt_string(doc, "user", "user");
	s->hostname = opt_string(doc, "hostname", "hostname");
	if (!s->hostname)
		s->hostname = "tsbuild";
	const char *network = opt_string(doc, "network", "network");
	if (network && strcmp(network, "none") != 0 && strcmp(network, "host") != 0)
		bad("network", "\"host\" or \"none\"");
	s->network_none = network && strcmp(network, "none") == 0;
	s->etc_hosts = opt_string(doc, "etcHosts", "etcHosts");
	s->resolv_conf = opt_string(doc, "resolvConf", "resolvConf");
	s->has_cgroup = cgroup_spec_parse(json_get(doc, "cgroup"), source, &s->limits);
	rlimit_spec_parse(json_get(doc, "ulimits"), source, &s->rlimits, &s->nrlimits);
	s->shm_size = opt_number(doc, "shmSize", "shmSize");
}
