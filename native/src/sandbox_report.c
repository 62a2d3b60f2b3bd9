#define _GNU_SOURCE
#include "sandbox_report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int result_fd = -1;
static int error_pipe = -1;

void report_set_result_fd(int fd)
{
	result_fd = fd;
}

void report_set_error_pipe(int fd)
{
	error_pipe = fd;
}

void json_write_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(f, "\\%c", *c);
		else if (*c < 0x20)
			fprintf(f, "\\u%04x", *c);
		else
			fputc(*c, f);
	}
	fputc('"', f);
}

/* One line, written with a single write so a reader never sees half of it. */
static void write_result_line(const char *line, size_t len)
{
	if (result_fd < 0)
		return;
	while (len > 0) {
		ssize_t n = write(result_fd, line, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		line += n;
		len -= (size_t)n;
	}
}

void die(const char *fmt, ...)
{
	char msg[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (error_pipe >= 0) {
		ssize_t unused = write(error_pipe, msg, strlen(msg));
		(void)unused;
		_exit(LAUNCHER_ERROR_EXIT);
	}
	fprintf(stderr, "tsbuild-sandbox: %s\n", msg);
	char *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);
	fputs("{\"error\":", f);
	json_write_string(f, msg);
	fputs("}\n", f);
	fclose(f);
	write_result_line(line, len);
	exit(LAUNCHER_ERROR_EXIT);
}

void die_sys(const char *syscall, const char *path)
{
	die("%s '%s': %s", syscall, path, strerror(errno));
}

void warn(const char *fmt, ...)
{
	char msg[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "tsbuild-sandbox: warning: %s\n", msg);
}

static void write_nullable(FILE *f, const char *name, long long v)
{
	if (v < 0)
		fprintf(f, ",\"%s\":null", name);
	else
		fprintf(f, ",\"%s\":%lld", name, v);
}

void report_result(const struct sandbox_result *r)
{
	char *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);
	fprintf(f, "{\"exitCode\":%d,\"signal\":", r->exit_code);
	if (r->signal) {
		char name[32];
		const char *abbrev = sigabbrev_np(r->signal);
		if (abbrev)
			snprintf(name, sizeof name, "SIG%s", abbrev);
		else
			snprintf(name, sizeof name, "SIG%d", r->signal);
		json_write_string(f, name);
	} else {
		fputs("null", f);
	}
	fprintf(f, ",\"maxRssKb\":%ld,\"cpuUserMs\":%ld,\"cpuSystemMs\":%ld", r->max_rss_kb, r->cpu_user_ms,
		r->cpu_system_ms);
	write_nullable(f, "memoryPeakBytes", r->memory_peak_bytes);
	write_nullable(f, "cpuUsageNs", r->cpu_usage_ns);
	write_nullable(f, "pidsPeak", r->pids_peak);
	fprintf(f, ",\"blockReadBytes\":%lld,\"blockWriteBytes\":%lld,\"oomKills\":%lld,\"pidsDenied\":%lld",
		r->block_read_bytes, r->block_write_bytes, r->oom_kills, r->pids_denied);
	fputs("}\n", f);
	fclose(f);
	write_result_line(line, len);
	free(line);
}
