// RUN --mount=type=cache: a host dir under <store root>/cache-mounts/, kept across builds, keyed by the
// mount's id. `sharing` decides what concurrent users get, as BuildKit promises:
//   shared  – everyone uses the same dir at once;
//   locked  – one user at a time, the others wait (a store lock, so it holds across tsbuild processes);
//   private – the shared dir when nobody uses it, otherwise a fresh dir of one's own, dropped afterwards.
// Each use sets the dir's times when it starts: `tsbuild prune` reads its mtime as the mount's last
// use (prune never runs beside a build, so the start of the last use is as good as its end).
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from "node:fs";
import { join } from "node:path";
import { withStoreLock } from "../../../src/store/lock.js";

export interface CacheMountSpec {
  id: string;
  sharing: "shared" | "private" | "locked";
  mode?: number;
  uid?: number;
  gid?: number;
}

/** A locked cache may be held for a whole long RUN: wait as long as a build may take. */
const LOCKED_WAIT_MS = 24 * 3600 * 1000;

/** Users of each cache dir in this process right now (private mounts look here). */
const inUse = new Map<string, number>();

const CACHE_MOUNTS = "cache-mounts";

export function cacheMountDir(root: string, id: string): string {
  return join(root, CACHE_MOUNTS, createHash("sha256").update(id).digest("hex"));
}

export interface StoredCacheMount {
  dir: string;
  /** The last time a build mounted it, ms. */
  lastUsedMs: number;
  /** A private copy or a half-made dir that a killed build left behind: nobody will use it again. */
  leftover: boolean;
}

/** Every dir under cache-mounts/. */
export function listCacheMounts(root: string): StoredCacheMount[] {
  let names: string[];
  try {
    names = readdirSync(join(root, CACHE_MOUNTS));
  } catch {
    return [];
  }
  return names.map((name) => {
    const dir = join(root, CACHE_MOUNTS, name);
    return { dir, lastUsedMs: statSync(dir).mtimeMs, leftover: !/^[0-9a-f]{64}$/.test(name) };
  });
}

function noteUse(dir: string): void {
  const now = new Date();
  utimesSync(dir, now, now);
}

/** Creates the dir with the mount's mode/owner the first time; later builds find it as they left it. */
function ensureDir(dir: string, m: CacheMountSpec): void {
  if (existsSync(dir)) return;
  mkdirSync(join(dir, ".."), { recursive: true, mode: 0o700 });
  const tmp = `${dir}.new-${randomBytes(4).toString("hex")}`;
  mkdirSync(tmp);
  chownSync(tmp, m.uid ?? 0, m.gid ?? 0);
  chmodSync(tmp, m.mode ?? 0o755);
  try {
    // rename makes a half-initialized dir invisible; a concurrent creator may win, which is fine.
    renameNoReplace(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function renameNoReplace(from: string, to: string): void {
  if (existsSync(to)) return;
  try {
    // mkdir-then-rename of dirs replaces only an empty target; a non-empty one fails, also fine.
    renameSync(from, to);
  } catch {
    // another build created it first
  }
}

export async function withCacheDir<T>(
  root: string,
  m: CacheMountSpec,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = cacheMountDir(root, m.id);
  ensureDir(dir, m);
  if (m.sharing === "private" && (inUse.get(dir) ?? 0) > 0) {
    noteUse(dir);
    const own = `${dir}.private-${randomBytes(6).toString("hex")}`;
    mkdirSync(own);
    chownSync(own, m.uid ?? 0, m.gid ?? 0);
    chmodSync(own, m.mode ?? 0o755);
    try {
      return await fn(own);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  }
  const use = async () => {
    inUse.set(dir, (inUse.get(dir) ?? 0) + 1);
    noteUse(dir);
    try {
      return await fn(dir);
    } finally {
      const n = (inUse.get(dir) ?? 1) - 1;
      if (n > 0) inUse.set(dir, n);
      else inUse.delete(dir);
    }
  };
  if (m.sharing === "locked") {
    return withStoreLock(root, `cache-mount-${dir.slice(-64)}`, use, { timeoutMs: LOCKED_WAIT_MS });
  }
  return use();
}
