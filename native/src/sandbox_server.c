/*
 * tsbuild-sandbox --server: starts launchers for Node, so that Node forks once per build instead of
 * once per RUN (a fork of the Node process costs ~3 ms of its main thread; this process is small).
 *
 * Commands on stdin, one line each (a spec's bytes follow its line):
 *   prepare ID ARGS...  start `tsbuild-sandbox ARGS...` (the --spec-fd form, its spec on fd 4 and its
 *                       result on fd 3) with its stdout, stderr, result and spec on pipes
 *   spec ID LEN         LEN bytes of spec JSON for launcher ID, then EOF on its spec pipe
 *   cancel ID           EOF on its spec pipe without a spec: the launcher exits, unused
 *   kill ID SIGNAL      signal the launcher (it forwards TERM, INT, HUP and QUIT to its sandbox)
 * Events on stdout:
 *   out ID 1|2 LEN      LEN bytes the command wrote to its stdout or stderr
 *   res ID LEN          LEN bytes of the launcher's result line
 *   exit ID CODE SIGNAL when the launcher has exited and its pipes are drained (SIGNAL 0: none)
 * EOF on stdin cancels every launcher still waiting for a spec; the server exits when all are gone.
 * It dies with Node (PDEATHSIG), and its launchers with it.
 */
#define _GNU_SOURCE
#include "sandbox_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_fs.h"
#include "sandbox_report.h"

enum { OUT, ERR, RES, NREAD };

struct launcher {
	int id;
	pid_t pid;
	int fds[NREAD]; /* read ends, -1 once drained */
	int spec;       /* write end, -1 once closed */
	int reaped, status;
	struct launcher *next;
};

static struct launcher *launchers;
static int sigchld_pipe[2];

static void on_sigchld(int sig)
{
	(void)sig;
	int e = errno;
	ssize_t n = write(sigchld_pipe[1], "c", 1);
	(void)n;
	errno = e;
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			exit(LAUNCHER_ERROR_EXIT); /* Node is gone */
		p += n;
		len -= (size_t)n;
	}
}

static void emit(const char *head, const void *data, size_t len)
{
	write_all(STDOUT_FILENO, head, strlen(head));
	if (len)
		write_all(STDOUT_FILENO, data, len);
}

static struct launcher *find(int id)
{
	for (struct launcher *l = launchers; l; l = l->next)
		if (l->id == id)
			return l;
	return NULL;
}

static void close_spec(struct launcher *l)
{
	if (l->spec >= 0)
		close(l->spec);
	l->spec = -1;
}

static void start(int id, char *args, const char *self)
{
	int p[NREAD + 1][2];
	for (int i = 0; i <= NREAD; i++)
		if (pipe2(p[i], O_CLOEXEC) < 0)
			die_sys("pipe2", "launcher");
	pid_t pid = fork();
	if (pid < 0)
		die_sys("fork", "launcher");
	if (pid == 0) {
		/* fds 1, 2, 3 (result) and 4 (spec): dup2 clears CLOEXEC on the copies. */
		int wanted[] = { p[OUT][1], p[ERR][1], p[RES][1], p[NREAD][0] };
		int moved[4];
		for (int i = 0; i < 4; i++)
			moved[i] = fcntl(wanted[i], F_DUPFD_CLOEXEC, 10);
		for (int i = 0; i < 4; i++)
			if (moved[i] < 0 || dup2(moved[i], i + 1) < 0)
				_exit(LAUNCHER_ERROR_EXIT);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGPIPE, SIG_DFL); /* ignored here, it would stay ignored through exec for the RUN */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		char *argv[16] = { (char *)self };
		int n = 1;
		for (char *save = NULL, *w = strtok_r(args, " ", &save); w && n < 15; w = strtok_r(NULL, " ", &save))
			argv[n++] = w;
		argv[n] = NULL;
		execv(self, argv);
		_exit(LAUNCHER_ERROR_EXIT);
	}
	struct launcher *l = calloc(1, sizeof *l);
	if (!l)
		abort();
	l->id = id;
	l->pid = pid;
	for (int i = 0; i < NREAD; i++) {
		close(p[i][1]);
		l->fds[i] = p[i][0];
	}
	close(p[NREAD][0]);
	l->spec = p[NREAD][1];
	l->next = launchers;
	launchers = l;
}

/* Commands from Node, as read so far. */
static char *in_data;
static size_t in_len, in_cap;

/* Appends what stdin has; returns 0 at EOF. */
static int fill_input(void)
{
	if (in_cap - in_len < 65536) {
		in_cap = in_cap * 2 + 65536;
		if (!(in_data = realloc(in_data, in_cap)))
			abort();
	}
	for (;;) {
		ssize_t n = read(STDIN_FILENO, in_data + in_len, in_cap - in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_sys("read", "server stdin");
		in_len += (size_t)n;
		return n > 0;
	}
}

static void consume(size_t n)
{
	memmove(in_data, in_data + n, in_len - n);
	in_len -= n;
}

/* A spec's bytes: the rest of them are on their way, so waiting here is short. */
static char *take_bytes(size_t len)
{
	while (in_len < len)
		if (!fill_input())
			exit(LAUNCHER_ERROR_EXIT);
	char *buf = malloc(len + 1);
	if (!buf)
		abort();
	memcpy(buf, in_data, len);
	consume(len);
	return buf;
}

/* `spec ID LEN`: the LEN bytes leave stdin even when launcher ID is gone or has its spec already. */
static void deliver_spec(int id, size_t len)
{
	char *spec = take_bytes(len);
	struct launcher *l = find(id);
	if (l && l->spec >= 0) {
		/* A launcher that died early closed its end: EPIPE, reported by its exit. */
		for (size_t off = 0; off < len;) {
			ssize_t n = write(l->spec, spec + off, len - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				break;
			off += (size_t)n;
		}
		close_spec(l);
	}
	free(spec);
}

static void command(char *line, const char *self)
{
	int id, at = 0;
	char arg[16];
	long len;
	if (sscanf(line, "prepare %d %n", &id, &at) == 1 && at > 0) {
		start(id, line + at, self);
	} else if (sscanf(line, "spec %d %ld", &id, &len) == 2 && len >= 0) {
		deliver_spec(id, (size_t)len);
	} else if (sscanf(line, "cancel %d", &id) == 1) {
		struct launcher *l = find(id);
		if (l)
			close_spec(l);
	} else if (sscanf(line, "kill %d %15s", &id, arg) == 2) {
		struct launcher *l = find(id);
		if (l && !l->reaped)
			kill(l->pid, atoi(arg));
	} else {
		warn("server: unknown command: %s", line);
	}
}

/* Handles the first whole command line already read, if there is one; returns whether there was. */
static int run_buffered_command(const char *self)
{
	char *nl = in_len ? memchr(in_data, '\n', in_len) : NULL;
	if (!nl)
		return 0;
	*nl = 0;
	size_t used = (size_t)(nl - in_data) + 1;
	char *line = strdup(in_data);
	consume(used);
	command(line, self);
	free(line);
	return 1;
}

static void reap(void)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (struct launcher *l = launchers; l; l = l->next)
			if (l->pid == pid) {
				l->reaped = 1;
				l->status = status;
			}
}

/* Emits `exit` for launchers that are reaped and drained, and frees them. */
static void finish_done(void)
{
	for (struct launcher **pl = &launchers; *pl;) {
		struct launcher *l = *pl;
		if (!l->reaped || l->fds[OUT] >= 0 || l->fds[ERR] >= 0 || l->fds[RES] >= 0) {
			pl = &l->next;
			continue;
		}
		char head[96];
		int code = WIFEXITED(l->status) ? WEXITSTATUS(l->status) : -1;
		int sig = WIFSIGNALED(l->status) ? WTERMSIG(l->status) : 0;
		snprintf(head, sizeof head, "exit %d %d %d\n", l->id, code, sig);
		emit(head, NULL, 0);
		close_spec(l);
		*pl = l->next;
		free(l);
	}
}

/* What one turn of the event loop polls: the SIGCHLD pipe, stdin while it is open, and every
 * launcher's read ends not yet drained (owner[i] and which[i] say whose fds[i] is, and which). */
struct watch {
	struct pollfd *fds;
	struct launcher **owner;
	int *which;
	nfds_t n;
};

static void watch_build(struct watch *w, int stdin_open)
{
	size_t count = 0;
	for (struct launcher *l = launchers; l; l = l->next)
		count++;
	w->fds = calloc(2 + NREAD * count, sizeof *w->fds);
	w->owner = calloc(2 + NREAD * count, sizeof *w->owner);
	w->which = calloc(2 + NREAD * count, sizeof *w->which);
	if (!w->fds || !w->owner || !w->which)
		abort();
	w->n = 0;
	w->fds[w->n++] = (struct pollfd){ .fd = sigchld_pipe[0], .events = POLLIN };
	if (stdin_open)
		w->fds[w->n++] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
	for (struct launcher *l = launchers; l; l = l->next)
		for (int i = 0; i < NREAD; i++)
			if (l->fds[i] >= 0) {
				w->owner[w->n] = l;
				w->which[w->n] = i;
				w->fds[w->n++] = (struct pollfd){ .fd = l->fds[i], .events = POLLIN };
			}
}

static void watch_free(struct watch *w)
{
	free(w->fds);
	free(w->owner);
	free(w->which);
}

/* More commands from Node. At EOF Node asks for nothing more: every launcher still waiting for a
 * spec is cancelled. */
static void read_commands(int *stdin_open)
{
	if (!fill_input()) {
		*stdin_open = 0;
		for (struct launcher *l = launchers; l; l = l->next)
			close_spec(l);
	}
}

/* Passes on what the launchers' pipes have (their commands' output, their result lines) as events;
 * a pipe at EOF is drained. */
static void forward_output(const struct watch *w)
{
	char buf[65536];
	for (nfds_t i = 0; i < w->n; i++) {
		if (!w->fds[i].revents || w->fds[i].fd == sigchld_pipe[0] || w->fds[i].fd == STDIN_FILENO)
			continue;
		struct launcher *l = w->owner[i];
		int which = w->which[i];
		ssize_t got = read(w->fds[i].fd, buf, sizeof buf);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0) {
			close(l->fds[which]);
			l->fds[which] = -1;
			continue;
		}
		char head[96];
		if (which == RES)
			snprintf(head, sizeof head, "res %d %zd\n", l->id, got);
		else
			snprintf(head, sizeof head, "out %d %d %zd\n", l->id, which == OUT ? 1 : 2, got);
		emit(head, buf, (size_t)got);
	}
}

/* Waits for something to happen and handles it: a child exited (the SIGCHLD pipe; the loop reaps),
 * Node wrote commands, or launchers wrote output. New commands end the turn before any output is
 * read: the output stays readable for the next one. */
static void wait_for_events(int *stdin_open)
{
	struct watch w;
	watch_build(&w, *stdin_open);
	int ready = poll(w.fds, w.n, -1);
	if (ready < 0 && errno != EINTR)
		die_sys("poll", "server");
	if (ready >= 0) {
		if (w.fds[0].revents) {
			char drain[64];
			while (read(sigchld_pipe[0], drain, sizeof drain) > 0)
				;
		}
		if (*stdin_open && w.fds[1].revents)
			read_commands(stdin_open);
		else
			forward_output(&w);
	}
	watch_free(&w);
}

/* The event loop, until stdin is closed and every launcher is gone. */
static int serve(const char *self)
{
	int stdin_open = 1;
	for (;;) {
		reap();
		finish_done();
		if (!stdin_open && !launchers)
			return 0;
		/* Whole command lines already read are handled before polling again. */
		if (!run_buffered_command(self))
			wait_for_events(&stdin_open);
	}
}

int sandbox_server(const char *self)
{
	pid_t parent = getppid();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		return LAUNCHER_ERROR_EXIT;
	/* SIGCHLD wakes the poll through this pipe: a child that exits between reap() and poll() is not
	 * missed until some other event. */
	if (pipe2(sigchld_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		die_sys("pipe2", "server");
	/* Once per build: what launchers killed with SIGKILL left (Node sweeps at each build start too). */
	cgfs_sweep();
	struct sigaction sa = { 0 };
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);

	/* A write to a closed pipe fails with EPIPE instead of killing the server: to a launcher that is
	 * gone (deliver_spec), or to Node (write_all). */
	signal(SIGPIPE, SIG_IGN);
	return serve(self);
}
