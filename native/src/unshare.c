/* tsbuild-unshare CMD ARGS...: runs CMD in a new mount namespace whose mounts never propagate
 * back to the host, so every mount CMD makes disappears when it dies, even on SIGKILL.
 * Run by a user other than root it just runs CMD: such a user cannot mount anyway, and
 * bin/tsbuild saves a fork of id(1) by not asking first. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: tsbuild-unshare CMD [ARGS...]\n");
		return 125;
	}
	if (geteuid() != 0)
		goto run;
	if (unshare(CLONE_NEWNS) < 0) {
		fprintf(stderr, "tsbuild-unshare: unshare(CLONE_NEWNS): %s\n", strerror(errno));
		return 125;
	}
	/* Slave, not private: host mounts made later (a new disk, a bind) still show up in here. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		fprintf(stderr, "tsbuild-unshare: mount '/' MS_REC|MS_SLAVE: %s\n", strerror(errno));
		return 125;
	}
run:
	execvp(argv[1], argv + 1);
	fprintf(stderr, "tsbuild-unshare: exec '%s': %s\n", argv[1], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
