/* The sandbox's pid 1: sets up the container, runs the command as its child, reaps zombies,
 * forwards signals, and when the command exits kills whatever it left behind. */
#ifndef TSBUILD_SANDBOX_INIT_H
#define TSBUILD_SANDBOX_INIT_H

#include "sandbox_spec.h"

/* Runs in the new namespaces. Reads the spec's JSON from spec_fd until EOF (the launcher sends it once
 * the sandbox is in its cgroups; nothing at all means the prepared sandbox is not needed) and writes
 * the command's wait status (an int) to status_fd before exiting. */
__attribute__((noreturn)) void sandbox_init(int spec_fd, const char *spec_source, int status_fd);

#endif
