/* tsbuild-sandbox --server: starts launchers on Node's request (see sandbox_server.c). */
#ifndef TSBUILD_SANDBOX_SERVER_H
#define TSBUILD_SANDBOX_SERVER_H

/* Serves until stdin closes and every launcher is gone; `self` is this binary's path. */
int sandbox_server(const char *self);

#endif
