#define _GNU_SOURCE
#include "sandbox_init.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox_report.h"
#include "sandbox_rootfs.h"
#include "sandbox_user.h"

extern char **environ;

/* Signals a user or Node may send to stop or poke the build; init passes them to the command. */
static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

static void mkdir_p(const char *path)
{
	char *p = strdup(path);
	for (char *slash = p + 1;; slash++) {
		int last = (slash = strchr(slash, '/')) == NULL;
		if (!last)
			*slash = 0;
		if (*p && mkdir(p, 0755) < 0 && errno != EEXIST)
			die_sys("mkdir", p);
		if (last)
			break;
		*slash = '/';
	}
	free(p);
}

/* The spec's environment, plus HOME from /etc/passwd when the spec does not set it (as Docker does). */
static char **command_env(const struct sandbox_spec *spec, const struct creds *c)
{
	size_t n = 0;
	int has_home = 0;
	for (; spec->env[n]; n++)
		has_home |= strncmp(spec->env[n], "HOME=", 5) == 0;
	char **env = calloc(n + 2, sizeof *env);
	if (!env)
		abort();
	memcpy(env, spec->env, n * sizeof *env);
	if (!has_home && asprintf(&env[n], "HOME=%s", c->home) < 0)
		abort();
	return env;
}

__attribute__((noreturn)) static void exec_command(const struct sandbox_spec *spec, const struct creds *c)
{
	sigset_t none;
	sigemptyset(&none);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		signal(forwarded[i], SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (chdir(spec->cwd) < 0)
		die_sys("chdir", spec->cwd);
	user_switch(c);
	/* Nothing but stdio crosses into the command (the error pipe closes on exec). */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	/* execvp searches the PATH of the environment it runs in: the command's. */
	environ = command_env(spec, c);
	execvp(spec->args[0], (char *const *)spec->args);
	die("exec '%s': %s", spec->args[0], strerror(errno));
}

/* Waits for the command, forwarding signals and reaping every other child that exits. */
static int supervise(pid_t command, const sigset_t *wanted)
{
	for (;;) {
		siginfo_t info;
		int sig = sigwaitinfo(wanted, &info);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(command, sig);
			continue;
		}
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			if (pid == command)
				return status;
	}
}

void sandbox_init(int spec_fd, const char *spec_source, int status_fd)
{
	/* Blocked from the start, so they queue for sigwaitinfo: pid 1 drops signals it has no
	 * handler for, and an abort during setup must still reach the command. */
	sigset_t wanted;
	sigemptyset(&wanted);
	sigaddset(&wanted, SIGCHLD);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaddset(&wanted, forwarded[i]);
	sigprocmask(SIG_BLOCK, &wanted, NULL);
	/* If the launcher dies (Node was killed), so does pid 1, and with it the whole namespace. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	char *text = spec_read_fd(spec_fd);
	close(spec_fd);
	if (!*text)
		_exit(0); /* not needed after all, or the launcher is gone */
	struct sandbox_spec parsed;
	spec_parse(text, spec_source, &parsed);
	if (!parsed.resolv_conf) {
		/* Read before the pivot, from the host: /etc/resolv.conf may be a symlink on the host. */
		int fd = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC);
		parsed.resolv_conf = fd < 0 ? "" : spec_read_fd(fd);
		if (fd >= 0)
			close(fd);
	}
	const struct sandbox_spec *spec = &parsed;

	rootfs_setup(spec);
	if (sethostname(spec->hostname, strlen(spec->hostname)) < 0)
		die("sethostname '%s': %s", spec->hostname, strerror(errno));
	if (spec->network_none)
		network_loopback_up();
	struct creds creds;
	user_resolve(spec->user, &creds);
	mkdir_p(spec->cwd);

	pid_t command = fork();
	if (command < 0)
		die_sys("fork", spec->args[0]);
	if (command == 0)
		exec_command(spec, &creds);
	int status = supervise(command, &wanted);

	/* No process may outlive the build step: daemons the command started go too. */
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	rootfs_remove_stubs();
	if (write(status_fd, &status, sizeof status) != sizeof status)
		_exit(LAUNCHER_ERROR_EXIT);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}
