import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TsbuildError } from "../src/errors.js";
import { writeFileAtomic } from "../src/util/atomic.js";
import type { SnapshotKind } from "./types.js";

// All snapshot metadata lives in one small JSON file, rewritten atomically under the store lock.
// A process killed at any point leaves either the old or the new file; id dirs that the file does
// not name (created just before a crash, or whose removal was cut short) are garbage.

export const METADATA_FILE = "metadata.json";

export interface SnapshotRecord {
  id: string;
  kind: SnapshotKind;
  parent?: string;
  labels: Record<string, string>;
  created: string;
  updated: string;
}

export interface SnapshotDb {
  version: 1;
  /** Ids are never reused, so a dir whose removal was interrupted cannot be mistaken for a new one. */
  nextId: number;
  /** By key (active, view) or name (committed): one namespace for all kinds. */
  snapshots: Record<string, SnapshotRecord>;
}

export function loadDb(root: string): SnapshotDb {
  const path = join(root, METADATA_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, nextId: 1, snapshots: {} };
    throw err;
  }
  try {
    const db = JSON.parse(text) as SnapshotDb;
    if (db.version !== 1 || typeof db.snapshots !== "object") throw new Error("unknown format");
    return db;
  } catch (err) {
    throw new TsbuildError(`snapshot metadata ${path} is corrupt: ${(err as Error).message}`);
  }
}

export function saveDb(root: string, db: SnapshotDb): void {
  writeFileAtomic(join(root, METADATA_FILE), `${JSON.stringify(db)}\n`);
}

/** Picks the next id whose dir does not exist yet (one may be left over from a crash). */
export function allocateId(root: string, db: SnapshotDb): string {
  while (existsSync(join(root, String(db.nextId)))) db.nextId++;
  return String(db.nextId++);
}

/**
 * Removes what a killed process may have left: temp files of an unfinished atomic write and id
 * dirs without a record. Call with the store lock held, so no live writer's files are touched.
 */
export function collectGarbage(root: string, db: SnapshotDb): string[] {
  const used = new Set(Object.values(db.snapshots).map((r) => r.id));
  const removed: string[] = [];
  for (const name of readdirSync(root)) {
    if (name.startsWith(".tmp-") || (/^\d+$/.test(name) && !used.has(name))) {
      rmSync(join(root, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}
