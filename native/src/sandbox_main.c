/* Runs one build command in fresh namespaces over an overlay root (DESIGN.md "Sandbox"). Exits with
 * the command's status, 125 for its own errors.
 *
 *   tsbuild-sandbox --spec FILE [--result-fd N]
 *   tsbuild-sandbox --spec-fd N [--network-none] [--cgroup] [--result-fd N]
 *   tsbuild-sandbox --server     (starts the second form on request: sandbox_server.c)
 *
 * The second form prepares the sandbox before its spec exists: namespaces made, cgroups made and
 * entered (on cgroup v1 that waits out an RCU grace period, ~10 ms here), then it waits for the spec
 * on fd N. Node starts the next RUN's launcher this way while the current step still runs. The flags
 * say what must be decided before the clone; the spec must agree with them. EOF on fd N before any
 * spec ends it quietly (exit 0). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox_cgroup.h"
#include "sandbox_init.h"
#include "sandbox_report.h"
#include "sandbox_server.h"
#include "sandbox_spec.h"

static struct cgroup cgroups;
static volatile pid_t sandbox_pid;

static void remove_cgroups(void)
{
	cgroup_remove(&cgroups);
}

static void forward_signal(int sig)
{
	if (sandbox_pid > 0)
		kill(sandbox_pid, sig);
}

static void usage(void)
{
	fprintf(stderr, "usage: tsbuild-sandbox --spec FILE | --spec-fd N [--network-none] [--cgroup] [--result-fd N]\n");
	exit(LAUNCHER_ERROR_EXIT);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--server") == 0) {
		static char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (n < 0)
			die_sys("readlink", "/proc/self/exe");
		self[n] = 0;
		return sandbox_server(self);
	}
	pid_t parent = getppid();
	const char *spec_path = NULL;
	int spec_fd = -1, network_none = 0, has_cgroup = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--spec") == 0 && i + 1 < argc)
			spec_path = argv[++i];
		else if (strcmp(argv[i], "--spec-fd") == 0 && i + 1 < argc) {
			spec_fd = atoi(argv[++i]);
			if (spec_fd < 3 || fcntl(spec_fd, F_SETFD, FD_CLOEXEC) < 0)
				die("--spec-fd %s: not an open file descriptor", argv[i]);
		} else if (strcmp(argv[i], "--network-none") == 0)
			network_none = 1;
		else if (strcmp(argv[i], "--cgroup") == 0)
			has_cgroup = 1;
		else if (strcmp(argv[i], "--result-fd") == 0 && i + 1 < argc) {
			int fd = atoi(argv[++i]);
			if (fd < 3 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
				die("--result-fd %s: not an open file descriptor", argv[i]);
			report_set_result_fd(fd);
		} else
			usage();
	}
	if (!spec_path == (spec_fd < 0))
		usage();
	/* Held until the sandbox exists, then forwarded to it: an abort during setup is not lost, and
	 * pid 1 inherits them blocked, so they queue until its command runs. */
	sigset_t forwarded, old_mask;
	sigemptyset(&forwarded);
	sigaddset(&forwarded, SIGTERM);
	sigaddset(&forwarded, SIGINT);
	sigaddset(&forwarded, SIGHUP);
	sigaddset(&forwarded, SIGQUIT);
	sigprocmask(SIG_BLOCK, &forwarded, &old_mask);
	/* If Node dies, so does the launcher, and through pid 1's death signal the whole sandbox. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		return LAUNCHER_ERROR_EXIT; /* it died before the death signal was armed */

	struct sandbox_spec spec;
	char *spec_text = NULL, spec_source[64];
	if (spec_path) {
		spec_text = spec_read_file(spec_path);
		spec_parse(spec_text, spec_path, &spec);
		network_none = spec.network_none;
		has_cgroup = spec.has_cgroup;
	} else
		snprintf(spec_source, sizeof spec_source, "fd %d", spec_fd);
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, 0) < 0)
		die_sys("open", "/dev/null");
	close(devnull);

	int errp[2], statusp[2], syncp[2];
	if (pipe2(errp, O_CLOEXEC) < 0 || pipe2(statusp, O_CLOEXEC) < 0 || pipe2(syncp, O_CLOEXEC) < 0)
		die_sys("pipe2", "sandbox");
	if (has_cgroup) {
		cgroup_create(&cgroups);
		atexit(remove_cgroups);
	}
	fflush(NULL);
	unsigned long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
	if (network_none)
		flags |= CLONE_NEWNET;
	pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL); /* fork() into new namespaces */
	if (pid < 0)
		die_sys("clone", "namespaces");
	if (pid == 0) {
		close(errp[0]);
		close(statusp[0]);
		close(syncp[1]);
		if (spec_fd >= 0)
			close(spec_fd);
		report_set_error_pipe(errp[1]);
		sandbox_init(syncp[0], spec_path ? spec_path : spec_source, statusp[1]);
	}
	sandbox_pid = pid;
	close(errp[1]);
	close(statusp[1]);
	close(syncp[0]);
	struct sigaction sa = { 0 };
	sa.sa_handler = forward_signal;
	sa.sa_flags = SA_RESTART;
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&forwarded, sig) == 1)
			sigaction(sig, &sa, NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	if (has_cgroup)
		cgroup_enter(&cgroups, pid);
	if (!spec_path) {
		spec_text = spec_read_fd(spec_fd);
		close(spec_fd);
		if (!*spec_text) { /* not needed: the sandbox reads EOF and exits too */
			close(syncp[1]);
			waitpid(pid, NULL, 0);
			return 0;
		}
		spec_parse(spec_text, spec_source, &spec);
		if (spec.network_none != network_none || spec.has_cgroup != has_cgroup)
			die("spec %s: network and cgroup must be as prepared (--network-none %d, --cgroup %d)",
			    spec_source, network_none, has_cgroup);
	}
	if (has_cgroup)
		cgroup_limit(&cgroups, spec.memory_limit, spec.pids_limit);
	/* The spec goes to the sandbox as text: it was cloned before this launcher had it. */
	for (size_t off = 0, len = strlen(spec_text); off < len;) {
		ssize_t n = write(syncp[1], spec_text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_sys("write", "sandbox spec pipe");
		off += (size_t)n;
	}
	close(syncp[1]);

	int init_status;
	struct rusage ru;
	while (wait4(pid, &init_status, 0, &ru) < 0)
		if (errno != EINTR)
			die_sys("wait4", "sandbox init");
	char *error = spec_read_fd(errp[0]);
	if (*error)
		die("%s", error);
	int status;
	if (read(statusp[0], &status, sizeof status) != sizeof status)
		status = init_status; /* init itself was killed (OOM, SIGKILL): that is the result */

	struct sandbox_result r = {
		.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
		.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0,
		.max_rss_kb = ru.ru_maxrss,
		.cpu_user_ms = ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000,
		.cpu_system_ms = ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000,
		.memory_peak_bytes = -1,
		.cpu_usage_ns = -1,
	};
	if (has_cgroup)
		cgroup_collect(&cgroups, &r.memory_peak_bytes, &r.cpu_usage_ns);
	report_result(&r);
	return r.exit_code;
}
