/* The sandbox's pid 1: sets up the container, runs the command as its child, reaps zombies,
 * forwards signals, and when the command exits kills whatever it left behind. */
#ifndef TSBUILD_SANDBOX_INIT_H
#define TSBUILD_SANDBOX_INIT_H

#include "sandbox_spec.h"

/* Runs in the new namespaces. Waits for one byte on sync_fd (the launcher has moved it into its
 * cgroups) and writes the command's wait status (an int) to status_fd before exiting. */
__attribute__((noreturn)) void sandbox_init(const struct sandbox_spec *spec, int sync_fd, int status_fd);

#endif
