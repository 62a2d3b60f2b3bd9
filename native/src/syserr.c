#include "syserr.h"

#include <stdio.h>

int syserr_set(struct syserr *e, int errnum, const char *syscall, const char *path)
{
	e->errnum = errnum;
	snprintf(e->syscall, sizeof e->syscall, "%s", syscall);
	snprintf(e->path, sizeof e->path, "%s", path ? path : "");
	return -1;
}
