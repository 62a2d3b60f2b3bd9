/* Runs one build command in fresh namespaces over an overlay root (DESIGN.md "Sandbox"). Exits with
 * the command's status, 125 for its own errors.
 *
 *   tsbuild-sandbox --spec FILE [--result-fd N]
 *   tsbuild-sandbox --spec-fd N [--network-none] [--cgroup [--cgroup-controllers cpu,cpuset,blkio]]
 *                   [--result-fd N]
 *   tsbuild-sandbox --server     (starts the second form on request: sandbox_server.c)
 *
 * The second form prepares the sandbox before its spec exists: namespaces made, cgroups made and
 * entered (on cgroup v1 that waits out an RCU grace period, ~10 ms here), then it waits for the spec
 * on fd N. Node starts the next RUN's launcher this way while the current step still runs. The flags
 * say what must be decided before the clone; the spec must agree with them. EOF on fd N before any
 * spec ends it quietly (exit 0).
 *
 * The launcher owns its cgroups: it removes them when it exits, also when its parent dies (a killed
 * build): then its death signal, SIGUSR1, kills the sandbox and lets it clean up. Only a SIGKILL of
 * the launcher itself leaves them, for the next build's sweep (cgroup_fs.h). */
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
#include "sandbox_rlimit.h"
#include "sandbox_server.h"
#include "sandbox_spec.h"

static struct cgroup cgroups;
static volatile pid_t sandbox_pid;
static volatile sig_atomic_t sandbox_reaped, parent_gone;

/* At exit, also die()'s: the sandbox goes first, since a cgroup with a process in it stays. */
static void remove_cgroups(void)
{
	if (sandbox_pid > 0 && !sandbox_reaped) {
		kill(sandbox_pid, SIGKILL);
		while (waitpid(sandbox_pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	cgroup_remove(&cgroups);
}

/* The death signal: the build is gone, so is the reader of the result (no SIGPIPE for it). */
static void on_parent_death(int sig)
{
	(void)sig;
	parent_gone = 1;
	signal(SIGPIPE, SIG_IGN);
	if (sandbox_pid > 0)
		kill(sandbox_pid, SIGKILL);
}

static void forward_signal(int sig)
{
	if (sandbox_pid > 0)
		kill(sandbox_pid, sig);
}

static void usage(void)
{
	fprintf(stderr, "usage: tsbuild-sandbox --spec FILE | --spec-fd N [--network-none] [--cgroup "
			"[--cgroup-controllers LIST]] [--result-fd N]\n");
	exit(LAUNCHER_ERROR_EXIT);
}

/* What the command line asked for. */
struct launch {
	const char *spec_path;   /* --spec FILE, or NULL */
	int spec_fd;             /* --spec-fd N, or -1 */
	int network_none, has_cgroup;
	unsigned cgroup_extra;   /* controllers besides CG_BASE (cgroup_needs) */
	const char *spec_source; /* how errors name the spec: its path, or "fd N" */
	char fd_name[64];
};

/* The launcher's pipes to the sandbox's pid 1 (each a pipe2 pair: [0] reads, [1] writes). */
struct sandbox_pipes {
	int err[2];    /* die() messages from the sandbox's processes */
	int status[2]; /* the command's wait status, from pid 1 */
	int sync[2];   /* the spec's JSON, to pid 1; EOF without one: the sandbox is not needed */
};

/* The server starts its launchers by exec'ing this same binary, so it needs its own path. */
static int run_server(void)
{
	static char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0)
		die_sys("readlink", "/proc/self/exe");
	self[n] = 0;
	return sandbox_server(self);
}

/* An fd Node passed, made close-on-exec so that the command the sandbox runs never inherits it. */
static int fd_arg(const char *flag, const char *value)
{
	int fd = atoi(value);
	if (fd < 3 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		die("%s %s: not an open file descriptor", flag, value);
	return fd;
}

/* Exactly one of --spec and --spec-fd; anything else is a usage error. */
static void parse_args(int argc, char **argv, struct launch *l)
{
	*l = (struct launch){ .spec_fd = -1 };
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--spec") == 0 && i + 1 < argc)
			l->spec_path = argv[++i];
		else if (strcmp(argv[i], "--spec-fd") == 0 && i + 1 < argc)
			l->spec_fd = fd_arg("--spec-fd", argv[++i]);
		else if (strcmp(argv[i], "--network-none") == 0)
			l->network_none = 1;
		else if (strcmp(argv[i], "--cgroup") == 0)
			l->has_cgroup = 1;
		else if (strcmp(argv[i], "--cgroup-controllers") == 0 && i + 1 < argc) {
			if (cgroup_controllers_arg(argv[++i], &l->cgroup_extra) < 0)
				usage();
		}
		else if (strcmp(argv[i], "--result-fd") == 0 && i + 1 < argc)
			report_set_result_fd(fd_arg("--result-fd", argv[++i]));
		else
			usage();
	}
	if (!l->spec_path == (l->spec_fd < 0))
		usage();
	if (l->spec_path)
		l->spec_source = l->spec_path;
	else {
		snprintf(l->fd_name, sizeof l->fd_name, "fd %d", l->spec_fd);
		l->spec_source = l->fd_name;
	}
}

/* Held until the sandbox exists, then forwarded to it: an abort during setup is not lost, and
 * pid 1 inherits them blocked, so they queue until its command runs. */
static void hold_signals(sigset_t *forwarded, sigset_t *old_mask)
{
	sigemptyset(forwarded);
	sigaddset(forwarded, SIGTERM);
	sigaddset(forwarded, SIGINT);
	sigaddset(forwarded, SIGHUP);
	sigaddset(forwarded, SIGQUIT);
	sigprocmask(SIG_BLOCK, forwarded, old_mask);
}

/* If Node dies, the launcher kills the sandbox and exits, removing its cgroups. Returns 0 when the
 * parent that was there at the start is gone. */
static int die_with_parent(pid_t parent)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = on_parent_death;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGUSR1);
	return getppid() == parent;
}

/* The one-shot form: the spec is read before the clone, and it decides the clone flags. */
static char *spec_from_file(struct launch *l, struct sandbox_spec *spec)
{
	char *text = spec_read_file(l->spec_path);
	spec_parse(text, l->spec_path, spec);
	l->network_none = spec->network_none;
	l->has_cgroup = spec->has_cgroup;
	l->cgroup_extra = cgroup_needs(&spec->limits);
	return text;
}

/* The command reads /dev/null: under the server, the fd 0 it would inherit is Node's command pipe. */
static void stdin_from_devnull(void)
{
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, 0) < 0)
		die_sys("open", "/dev/null");
	close(devnull);
}

static void open_pipes(struct sandbox_pipes *p)
{
	if (pipe2(p->err, O_CLOEXEC) < 0 || pipe2(p->status, O_CLOEXEC) < 0 || pipe2(p->sync, O_CLOEXEC) < 0)
		die_sys("pipe2", "sandbox");
}

/* Forks the sandbox's pid 1 into new namespaces, where it waits for the spec (sandbox_init), and
 * leaves each side only its own ends of the pipes. Returns pid 1's pid, in the launcher. */
static pid_t clone_sandbox(const struct launch *l, const struct sandbox_pipes *p)
{
	fflush(NULL);
	unsigned long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
	if (l->network_none)
		flags |= CLONE_NEWNET;
	pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, NULL); /* fork() into new namespaces */
	if (pid < 0)
		die_sys("clone", "namespaces");
	if (pid == 0) {
		close(p->err[0]);
		close(p->status[0]);
		close(p->sync[1]);
		if (l->spec_fd >= 0)
			close(l->spec_fd);
		report_set_error_pipe(p->err[1]);
		sandbox_init(p->sync[0], l->spec_source, p->status[1]);
	}
	close(p->err[1]);
	close(p->status[1]);
	close(p->sync[0]);
	return pid;
}

/* The held signals now go to the sandbox (see hold_signals). */
static void forward_signals(pid_t pid, const sigset_t *forwarded, const sigset_t *old_mask)
{
	sandbox_pid = pid;
	if (parent_gone)
		kill(pid, SIGKILL); /* the death signal came before there was a sandbox to kill */
	struct sigaction sa = { 0 };
	sa.sa_handler = forward_signal;
	sa.sa_flags = SA_RESTART;
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(forwarded, sig) == 1)
			sigaction(sig, &sa, NULL);
	sigprocmask(SIG_SETMASK, old_mask, NULL);
}

/* The --spec-fd form, its sandbox prepared: waits for the spec. NULL when Node sent EOF instead. The
 * spec must agree with the flags the sandbox was cloned with. */
static char *spec_from_fd(const struct launch *l, struct sandbox_spec *spec)
{
	char *text = spec_read_fd(l->spec_fd);
	close(l->spec_fd);
	if (!*text)
		return NULL;
	spec_parse(text, l->spec_source, spec);
	if (spec->network_none != l->network_none || spec->has_cgroup != l->has_cgroup ||
	    (cgroup_needs(&spec->limits) & ~l->cgroup_extra))
		die("spec %s: network and cgroup must be as prepared (--network-none %d, --cgroup %d, "
		    "limits needing controllers not prepared: %s)",
		    l->spec_source, l->network_none, l->has_cgroup,
		    cgroup_needs(&spec->limits) & ~l->cgroup_extra ? "yes" : "no");
	return text;
}

/* The spec goes to the sandbox as text: it was cloned before this launcher had it. EOF follows. */
static void send_spec(int fd, const char *text)
{
	for (size_t off = 0, len = strlen(text); off < len;) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_sys("write", "sandbox spec pipe");
		off += (size_t)n;
	}
	close(fd);
}

/* Waits for pid 1 and returns the command's wait status. An error that a process in the sandbox
 * sent up the error pipe is the launcher's own: it dies with it. */
static int wait_sandbox(pid_t pid, const struct sandbox_pipes *p, struct rusage *ru)
{
	int init_status;
	while (wait4(pid, &init_status, 0, ru) < 0)
		if (errno != EINTR)
			die_sys("wait4", "sandbox init");
	sandbox_reaped = 1;
	char *error = spec_read_fd(p->err[0]);
	if (*error)
		die("%s", error);
	int status;
	if (read(p->status[0], &status, sizeof status) != sizeof status)
		status = init_status; /* init itself was killed (OOM, SIGKILL): that is the result */
	return status;
}

/* Writes the result line; returns the launcher's exit code, which is the command's. */
static int send_result(int status, const struct rusage *ru, int has_cgroup)
{
	struct sandbox_result r = {
		.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
		.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0,
		.max_rss_kb = ru->ru_maxrss,
		.cpu_user_ms = ru->ru_utime.tv_sec * 1000 + ru->ru_utime.tv_usec / 1000,
		.cpu_system_ms = ru->ru_stime.tv_sec * 1000 + ru->ru_stime.tv_usec / 1000,
		.memory_peak_bytes = -1,
		.cpu_usage_ns = -1,
		.pids_peak = -1,
		/* Counted per task as it reads from disk and dirties pages for it (512-byte units), kept by
		 * every reaper up to pid 1: unlike cgroup v1's blkio, this charges buffered writes too. */
		.block_read_bytes = (long long)ru->ru_inblock * 512,
		.block_write_bytes = (long long)ru->ru_oublock * 512,
	};
	if (has_cgroup) {
		struct cgroup_usage u;
		cgroup_collect(&cgroups, &u);
		r.memory_peak_bytes = u.memory_peak;
		r.cpu_usage_ns = u.cpu_ns;
		r.pids_peak = u.pids_peak;
		r.oom_kills = u.oom_kills;
		r.pids_denied = u.pids_denied;
	}
	report_result(&r);
	return r.exit_code;
}

/* The order matters: signals held and the death signal armed before anything is made; the cgroups
 * made before the clone and entered right after it; in the --spec-fd form, the spec read only then. */
int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--server") == 0)
		return run_server();
	pid_t parent = getppid();
	struct launch l;
	parse_args(argc, argv, &l);
	sigset_t forwarded, old_mask;
	hold_signals(&forwarded, &old_mask);
	if (!die_with_parent(parent))
		return LAUNCHER_ERROR_EXIT; /* it died before the death signal was armed */

	struct sandbox_spec spec;
	char *spec_text = l.spec_path ? spec_from_file(&l, &spec) : NULL;
	stdin_from_devnull();
	struct sandbox_pipes p;
	open_pipes(&p);
	if (l.has_cgroup) {
		cgroup_create(&cgroups, l.cgroup_extra);
		atexit(remove_cgroups);
	}
	pid_t pid = clone_sandbox(&l, &p);
	forward_signals(pid, &forwarded, &old_mask);
	if (l.has_cgroup)
		cgroup_enter(&cgroups, pid);
	if (!l.spec_path && !(spec_text = spec_from_fd(&l, &spec))) {
		close(p.sync[1]); /* not needed: the sandbox reads EOF and exits too */
		waitpid(pid, NULL, 0);
		sandbox_reaped = 1;
		return 0;
	}
	if (l.has_cgroup)
		cgroup_limit(&cgroups, &spec.limits);
	rlimit_apply(pid, spec.rlimits, spec.nrlimits);
	send_spec(p.sync[1], spec_text);

	struct rusage ru;
	int status = wait_sandbox(pid, &p, &ru);
	return send_result(status, &ru, l.has_cgroup);
}
