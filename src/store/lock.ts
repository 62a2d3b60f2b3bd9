import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { tryLockExclusive, unlock } from "../../native/index.js";
import { TsbuildError } from "../errors.js";

export interface LockOptions {
  /** How long to wait for another holder before failing (default 30 s). */
  timeoutMs?: number;
}

/** Where the lock files of a store live. */
export function lockPath(root: string, name: string): string {
  return join(root, "locks", `${name}.lock`);
}

// Callers in this process queue here first, so they wait on a promise instead of polling the file.
const inProcess = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` while holding the store lock `name`, so that two tsbuild processes on one store never
 * interleave their mutations. Not reentrant: do not take the same lock again inside `fn`.
 * Keep `fn` short (an index.json rewrite, a cache record write).
 */
export async function withStoreLock<T>(
  root: string,
  name: string,
  fn: () => Promise<T> | T,
  opts: LockOptions = {},
): Promise<T> {
  const path = lockPath(root, name);
  const previous = inProcess.get(path) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => holdFileLock(path, fn, opts.timeoutMs ?? 30_000));
  inProcess.set(path, run);
  try {
    return await run;
  } finally {
    if (inProcess.get(path) === run) inProcess.delete(path);
  }
}

async function holdFileLock<T>(path: string, fn: () => Promise<T> | T, timeoutMs: number): Promise<T> {
  const fd = await acquire(path, timeoutMs);
  try {
    return await fn();
  } finally {
    unlock(fd);
    closeSync(fd);
  }
}

/**
 * Opens the lock file (made once, never removed) and takes its flock. An flock, unlike a lock file
 * created and removed per holder, frees itself when its holder dies, and allocates no inode per
 * acquisition: on ext4 without a journal, every inode freed in the last 30 s is stepped over by each
 * new allocation, and the per-step lock files made RUN steps measurably slower after a busy spell.
 */
/** Opens (creating) the lock file; its directory is made only the first time, not at every lock. */
function openLockFile(path: string): number {
  try {
    return openSync(path, "a", 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    mkdirSync(dirname(path), { recursive: true });
    return openSync(path, "a", 0o644);
  }
}

async function acquire(path: string, timeoutMs: number): Promise<number> {
  const fd = openLockFile(path);
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  try {
    while (!tryLockExclusive(fd)) {
      if (Date.now() >= deadline) {
        throw new TsbuildError(
          `timed out after ${timeoutMs} ms waiting for lock ${path} (held by another process)`,
        );
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 50);
    }
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}
