// Every temp file tsbuild writes before a rename is named `<prefix>.tmp-<pid>-<random>`, so that a
// later command can tell a dead writer's leftover (a build or save killed mid-write) from a live
// concurrent writer's file, and remove only the former. One naming, one sweep: before this, three
// writers named their temps three ways and only the store's ingest dir was ever swept (issue 19 #10).
import { randomBytes } from "node:crypto";
import { readdirSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { processIsAlive } from "./process.js";

const MARK = ".tmp-";

/**
 * Temps named before the pid was part of the name (`.tmp-<12 hex>`): their writer cannot be asked,
 * so they are removed only once no write could still be going on.
 */
const LEGACY_AGE_MS = 24 * 3600 * 1000;

/** A temp path beside `path` (same directory, so the rename is atomic): `<path>.tmp-<pid>-<hex>`. */
export function tempPathBeside(path: string): string {
  return `${path}${MARK}${process.pid}-${randomBytes(6).toString("hex")}`;
}

/** A temp path in `dir` that belongs to no file in particular: `<dir>/.tmp-<pid>-<hex>`. */
export function tempPathIn(dir: string): string {
  return join(dir, `${MARK}${process.pid}-${randomBytes(6).toString("hex")}`);
}

const TEMP_NAME = /\.tmp-(?:(\d+)-[0-9a-f]+|[0-9a-f]{12})$/;

/**
 * The pid that wrote the temp `name` (`<prefix>.tmp-<pid>-<hex>`; any prefix when `prefix` is
 * undefined); null for a legacy name; undefined for a name that is not such a temp.
 */
function writerPid(name: string, prefix: string | undefined): number | null | undefined {
  const m = TEMP_NAME.exec(name);
  if (!m || (prefix !== undefined && name.slice(0, m.index) !== prefix)) return undefined;
  return m[1] !== undefined ? Number(m[1]) : null;
}

/**
 * Removes the temps in `dir` whose writer is gone: `<dir>/<prefix>.tmp-*` (any prefix when it is
 * undefined) written by a pid that is not alive (a recycled pid keeps its file: never remove a live
 * write). Whole trees too (a temp dir). Returns the names removed. A missing `dir` has none.
 */
export function sweepTemps(dir: string, prefix?: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = writerPid(name, prefix);
    if (pid === undefined || pid === process.pid) continue;
    if (pid === null ? !legacyTempIsOld(join(dir, name)) : processIsAlive(pid)) continue;
    try {
      rmSync(join(dir, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Another sweeper got there first, or it is not ours to remove: left for the next one.
    }
  }
  return removed;
}

/** Sweeps the temps a writer of `path` (tempPathBeside) left. */
export function sweepTempsBeside(path: string): string[] {
  return sweepTemps(dirname(path), basename(path));
}

function legacyTempIsOld(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > LEGACY_AGE_MS;
  } catch {
    return false;
  }
}
