// How a command ends: only once what it wrote to stdout and stderr has been handed to the OS. A pipe
// whose reader is slow holds the last bursts of output in Node's queue (a build's summary, the
// `error:` line, the image digest), and process.exit() would drop them; exiting when the event loop
// empties instead would let a keep-alive socket or a library's timer keep a finished command alive.
// So: wait for the two streams, then exit, and never wait longer than DRAIN_LIMIT_MS for a reader that
// does not read.

/** How long a finished command waits for its output's reader. */
const DRAIN_LIMIT_MS = 60_000;

/** Resolves when everything written to `stream` so far has been written out (or the stream failed). */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) {
      resolve();
      return;
    }
    stream.once("error", () => resolve());
    stream.write("", () => resolve());
  });
}

/**
 * A reader that went away (`| head -1`) must not crash the command with EPIPE: what it no longer
 * reads is lost to it anyway, and a build goes on to finish its store writes.
 */
export function ignoreClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
    });
  }
}

export async function exitWhenDrained(code: number): Promise<never> {
  process.exitCode = code;
  setTimeout(() => process.exit(code), DRAIN_LIMIT_MS).unref();
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
}
