#define _GNU_SOURCE
#include "sandbox_rlimit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "json.h"
#include "sandbox_report.h"

/* Docker's names (go-units ulimit.go), the same set. */
static const struct {
	const char *name;
	int resource;
} names[] = {
	{ "as", RLIMIT_AS },		 { "core", RLIMIT_CORE },	{ "cpu", RLIMIT_CPU },
	{ "data", RLIMIT_DATA },	 { "fsize", RLIMIT_FSIZE },	{ "locks", RLIMIT_LOCKS },
	{ "memlock", RLIMIT_MEMLOCK },	 { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
	{ "nofile", RLIMIT_NOFILE },	 { "nproc", RLIMIT_NPROC },	{ "rss", RLIMIT_RSS },
	{ "rtprio", RLIMIT_RTPRIO },	 { "rttime", RLIMIT_RTTIME },	{ "sigpending", RLIMIT_SIGPENDING },
	{ "stack", RLIMIT_STACK },
};

__attribute__((noreturn)) static void bad(const char *source)
{
	die("spec %s: ulimits must be an array of {name, soft, hard} (numbers >= -1, -1 unlimited, soft <= hard)",
	    source);
}

static long long limit_value(const struct json *v, const char *source)
{
	if (!v || v->type != JSON_NUMBER || v->number != (double)(long long)v->number || v->number < -1)
		bad(source);
	return (long long)v->number;
}

/* -1 (unlimited) is the largest value. */
static int above(long long a, long long b)
{
	return b >= 0 && (a < 0 || a > b);
}

void rlimit_spec_parse(const struct json *v, const char *source, struct spec_rlimit **out, size_t *count)
{
	*out = NULL;
	*count = 0;
	if (!v || v->type == JSON_NULL)
		return;
	if (v->type != JSON_ARRAY)
		bad(source);
	*out = calloc(v->len + 1, sizeof **out);
	if (!*out)
		abort();
	for (size_t i = 0; i < v->len; i++) {
		const struct json *e = v->items[i], *name = json_get(e, "name");
		if (e->type != JSON_OBJECT || !name || name->type != JSON_STRING)
			bad(source);
		struct spec_rlimit *r = &(*out)[i];
		r->resource = -1;
		for (size_t n = 0; n < sizeof names / sizeof names[0]; n++)
			if (strcmp(name->string, names[n].name) == 0)
				r->resource = names[n].resource;
		if (r->resource < 0)
			die("spec %s: ulimits: unknown limit \"%s\"", source, name->string);
		r->name = name->string;
		r->soft = limit_value(json_get(e, "soft"), source);
		r->hard = limit_value(json_get(e, "hard"), source);
		if (above(r->soft, r->hard))
			bad(source);
	}
	*count = v->len;
}

static rlim_t to_rlim(long long v)
{
	return v < 0 ? RLIM_INFINITY : (rlim_t)v;
}

void rlimit_apply(pid_t pid, const struct spec_rlimit *r, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		struct rlimit want = { to_rlim(r[i].soft), to_rlim(r[i].hard) }, now;
		if (prlimit(pid, r[i].resource, &want, NULL) == 0)
			continue;
		int e = errno;
		const char *why = strerror(e);
		if (e == EPERM && prlimit(pid, r[i].resource, NULL, &now) == 0 && want.rlim_max > now.rlim_max) {
			char hard[32] = "unlimited";
			if (now.rlim_max != RLIM_INFINITY)
				snprintf(hard, sizeof hard, "%llu", (unsigned long long)now.rlim_max);
			die("cannot apply --ulimit %s: the hard limit cannot be raised above this process's (%s) "
			    "without CAP_SYS_RESOURCE",
			    r[i].name, hard);
		}
		die("cannot apply --ulimit %s: %s", r[i].name, why);
	}
}
