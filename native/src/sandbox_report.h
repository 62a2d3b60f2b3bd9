/* How the launcher reports: its own errors (stderr + result line, exit 125) and the final result. */
#ifndef TSBUILD_SANDBOX_REPORT_H
#define TSBUILD_SANDBOX_REPORT_H

#include <stdio.h>

#define LAUNCHER_ERROR_EXIT 125

/* In the launcher: where the JSON result line goes (-1: nowhere). */
void report_set_result_fd(int fd);

/* In the sandbox's processes: die() sends the message up this pipe for the launcher to report. */
void report_set_error_pipe(int fd);

/* The launcher's own failure: reports it and exits 125. */
__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);

/* die("SYSCALL 'PATH': strerror(errno)"). */
__attribute__((noreturn)) void die_sys(const char *syscall, const char *path);

/* A warning on stderr that does not fail the build. */
__attribute__((format(printf, 1, 2))) void warn(const char *fmt, ...);

/* Writes s as a JSON string literal (quotes included). */
void json_write_string(FILE *f, const char *s);

struct sandbox_result {
	int exit_code;
	int signal;                  /* 0: exited normally */
	long max_rss_kb;
	long cpu_user_ms, cpu_system_ms;
	long long memory_peak_bytes; /* -1: unknown */
	long long cpu_usage_ns;      /* -1: unknown */
	long long pids_peak;         /* -1: unknown */
	long long block_read_bytes, block_write_bytes; /* what the tree read from and dirtied for disk */
	long long oom_kills;   /* processes the OOM killer took in the RUN's cgroup */
	long long pids_denied; /* forks its pids limit refused */
};

void report_result(const struct sandbox_result *r);

#endif
