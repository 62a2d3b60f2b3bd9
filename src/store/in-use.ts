// Builds mark the store "in use" for their whole run with a file in <root>/builds/, so that prune
// never removes a record, snapshot or blob a running build has looked up or is writing.
// Both sides take the "gc" store lock: a build registers only while no prune runs, and a prune
// checks for live builds while no build can register.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { describeError, TsbuildError } from "../errors.js";
import { join } from "node:path";
import { withStoreLock } from "./lock.js";
import { processIsAlive, processStartTime } from "../util/process.js";

export const GC_LOCK = "gc";

export interface LiveBuild {
  pid: number;
  started: string;
  file: string;
}

function buildsDir(root: string): string {
  return join(root, "builds");
}

/** Registers this process as using the store; the returned function unregisters it. */
export async function markInUse(root: string): Promise<() => void> {
  const dir = buildsDir(root);
  const file = join(dir, `${process.pid}-${randomBytes(4).toString("hex")}.json`);
  await withStoreLock(
    root,
    GC_LOCK,
    () => {
      mkdirSync(dir, { recursive: true });
      const marker = {
        pid: process.pid,
        startTime: processStartTime(process.pid),
        started: new Date().toISOString(),
      };
      try {
        writeFileSync(file, `${JSON.stringify(marker)}\n`);
      } catch (err) {
        rmSync(file, { force: true });
        throw new TsbuildError(`store ${root}: cannot mark a build as running: ${describeError(err)}`, {
          cause: err,
        });
      }
      // A prune holds this lock while it deletes, which may take a while on a big store.
    },
    { timeoutMs: 10 * 60_000 },
  );
  return () => {
    try {
      unlinkSync(file);
    } catch {
      // A prune judged us dead (only possible after pid reuse): nothing left to undo.
    }
  };
}

/**
 * The processes using the store now, except this one. Markers of dead processes (a build killed
 * with SIGKILL) are removed on the way. Call with the gc lock held.
 */
export function liveBuilds(root: string): LiveBuild[] {
  const dir = buildsDir(root);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const live: LiveBuild[] = [];
  for (const name of names) {
    if (!name.endsWith(".json")) continue;
    const file = join(dir, name);
    let m: { pid: number; startTime?: string; started: string };
    try {
      m = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      // Torn by a crash mid-write (writers hold the gc lock, as we do): no live owner.
      unlinkSync(file);
      continue;
    }
    if (m.pid === process.pid) continue;
    if (processIsAlive(m.pid, m.startTime)) live.push({ pid: m.pid, started: m.started, file });
    else unlinkSync(file);
  }
  return live;
}
