import { randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { TsbuildError } from "../errors.js";
import { processIsAlive, processStartTime } from "./process.js";

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
  await acquire(path, timeoutMs);
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(path);
    } catch {
      // Already gone: someone judged us dead, which can only happen if our pid was reused.
    }
  }
}

interface Holder {
  pid: number;
  startTime?: string;
}

let owner: string | undefined;
/** This process's pid and start time (read once: it cannot change, and every lock needs it). */
function ownerLine(): string {
  return (owner ??= `${process.pid} ${processStartTime(process.pid) ?? ""}\n`);
}

function readHolder(path: string): Holder | undefined {
  try {
    const [pid, startTime] = readFileSync(path, "utf8").trim().split(" ");
    return { pid: Number(pid), startTime: startTime || undefined };
  } catch {
    return undefined;
  }
}

async function acquire(path: string, timeoutMs: number): Promise<void> {
  mkdirSync(join(path, ".."), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    if (tryCreate(path)) return;
    const holder = readHolder(path);
    if (holder && !processIsAlive(holder.pid, holder.startTime)) {
      removeStale(path, holder);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new TsbuildError(
        `timed out after ${timeoutMs} ms waiting for lock ${path} (held by pid ${holder?.pid ?? "unknown"})`,
      );
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
}

/**
 * Creates the lock file holding our pid. The content is written to a private file first and
 * hard-linked into place, so that nobody can ever read a lock file that is still empty.
 */
function tryCreate(path: string): boolean {
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString("hex")}`;
  writeFileSync(tmp, ownerLine(), { flag: "wx" });
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

/**
 * Removes a lock left by a dead process. Two waiters may both find it dead: a takeover lock makes
 * sure only one removes it, and that one re-checks it is still the same dead holder's file
 * (the other may already have removed it and taken the lock for itself).
 */
function removeStale(path: string, dead: Holder): void {
  const takeover = `${path}.takeover`;
  try {
    writeFileSync(takeover, ownerLine(), { flag: "wx" });
  } catch {
    // Someone else is taking over; a takeover file left by a process killed in these few
    // microseconds would block everyone, so an old one is removed.
    try {
      if (Date.now() - statSync(takeover).mtimeMs > 10_000) unlinkSync(takeover);
    } catch {
      // Gone already: the other taker finished.
    }
    return;
  }
  try {
    const now = readHolder(path);
    if (now && now.pid === dead.pid && now.startTime === dead.startTime) unlinkSync(path);
  } finally {
    unlinkSync(takeover);
  }
}
