/* A failed system call, with what it was called on, so that errors name the object. */
#ifndef TSBUILD_SYSERR_H
#define TSBUILD_SYSERR_H

#include <limits.h>

struct syserr {
	int errnum;             /* errno value; 0 when no error */
	char syscall[32];       /* e.g. "fsconfig" */
	char path[PATH_MAX];    /* the file or key the call was about; may be empty */
	char detail[512];       /* kernel's own explanation (fsopen log), may be empty */
};

/* Records errno with the call and path; returns -1 so callers can `return syserr_set(...)`. */
int syserr_set(struct syserr *e, int errnum, const char *syscall, const char *path);

#endif
