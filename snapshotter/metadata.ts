import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
} from "node:fs";
import { readdir, rm, rmdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { TsbuildError } from "../src/errors.js";
import { processTag, processTagAlive } from "../src/util/process.js";
import { fsyncDir, writeFileAtomic } from "../src/util/atomic.js";
import { type Edges, writeChildrenLog } from "./children-log.js";
import type { SnapshotKind } from "./types.js";

// One small JSON file per snapshot, records/<key>.json, so that a step's prepare and commit touch
// only their own records: a single file for all snapshots was parsed and rewritten whole, three
// times a step, and grew with the store. Committed records are written durably (fsync, rename,
// fsync dir). Active records and views are not: after a power cut one may be missing or torn, and
// it only ever named a throwaway tree, which open() then collects. The id dirs a record does not
// name (made just before a crash, or whose removal was cut short) are garbage too.

export const RECORDS_DIR = "records";
/** One file per process that has the store open: what tells a clean store from one a crash left. */
const OWNERS_DIR = "owners";
/** The store format before per-snapshot records: migrated on open. */
const LEGACY_METADATA_FILE = "metadata.json";

export interface SnapshotRecord {
  id: string;
  kind: SnapshotKind;
  parent?: string;
  labels: Record<string, string>;
  created: string;
  updated: string;
  /** Active snapshots and views: the process using it ("pid-starttime"); when it dies, so does this. */
  owner?: string;
}

interface RecordFile extends SnapshotRecord {
  key: string;
}

function recordPath(root: string, key: string): string {
  // Keys hold "/" and ":" (active/…, chain:sha256:…); the encoding is reversible and file-safe.
  return join(root, RECORDS_DIR, `${encodeURIComponent(key)}.json`);
}

function parseRecord(text: string, path: string): RecordFile {
  const r = JSON.parse(text) as RecordFile;
  if (typeof r.key !== "string" || typeof r.id !== "string" || typeof r.kind !== "string") {
    throw new Error(`${path}: not a snapshot record`);
  }
  return r;
}

/** The record of `key`, or undefined. */
export function readRecord(root: string, key: string): SnapshotRecord | undefined {
  const path = recordPath(root, key);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    const { key: _key, ...record } = parseRecord(text, path);
    return record;
  } catch (err) {
    throw new TsbuildError(`snapshot metadata ${path} is corrupt: ${(err as Error).message}`);
  }
}

/**
 * Writes the record of `key`. `exclusive`: fail with "already exists" if there is one (the file
 * appears complete or not at all: it is linked into place). Committed records are made durable.
 */
export function writeRecord(root: string, key: string, record: SnapshotRecord, exclusive: boolean): void {
  try {
    writeFileAtomic(recordPath(root, key), `${JSON.stringify({ key, ...record })}\n`, {
      durable: record.kind === "committed",
      exclusive,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST")
      throw new TsbuildError(`snapshot ${key}: already exists`);
    throw err;
  }
}

export function removeRecord(root: string, key: string): void {
  try {
    unlinkSync(recordPath(root, key));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

/** Every record by key, and the names in records/ that are none (temp files, torn records). */
function scanRecords(root: string): { records: Map<string, SnapshotRecord>; other: string[] } {
  const records = new Map<string, SnapshotRecord>();
  const other: string[] = [];
  const dir = join(root, RECORDS_DIR);
  for (const name of readdirSync(dir)) {
    try {
      if (!name.endsWith(".json")) throw new Error("not a record");
      const { key, ...record } = parseRecord(readFileSync(join(dir, name), "utf8"), name);
      records.set(key, record);
    } catch {
      other.push(name);
    }
  }
  return { records, other };
}

/** Every record by key. A torn file (an active record cut by a power loss) is skipped. */
export function listRecords(root: string): Map<string, SnapshotRecord> {
  return scanRecords(root).records;
}

/** The parent → child pairs the records hold: what children.log is rebuilt from. */
export function parentEdges(records: Map<string, SnapshotRecord>): Edges {
  return [...records].flatMap(([key, r]) => (r.parent === undefined ? [] : [[r.parent, key] as const]));
}

/** A new id dir (fs/ and work/ inside) under a random name: ids are never reused. */
export function createIdDir(root: string): string {
  for (;;) {
    const id = randomBytes(6).toString("hex");
    try {
      mkdirSync(join(root, id), { mode: 0o755 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw err;
    }
    mkdirSync(join(root, id, "fs"), { mode: 0o755 });
    mkdirSync(join(root, id, "work"), { mode: 0o700 });
    return id;
  }
}

/**
 * Removes a snapshot's id dir (fs/, work/ and the dir itself), walking the tree by entry type: rmSync
 * lstat()s every entry and tries rmdir before readdir, twice the syscalls (~150 ms of a 2,000-snapshot
 * prune). On the thread pool: on a disk mounted with `discard` every freed block is a synchronous TRIM,
 * so removals that overlap (a prune removes several at once) take about half the time. A work/ that was
 * mounted holds overlayfs's work/work, hence the fallback.
 */
export async function removeIdDirAsync(dir: string): Promise<void> {
  try {
    await removeTreeAsync(join(dir, "fs"));
    await rmdir(join(dir, "work")).catch(() => removeTreeAsync(join(dir, "work")));
    await rmdir(dir);
  } catch {
    await rm(dir, { recursive: true, force: true });
  }
}

async function removeTreeAsync(path: string): Promise<void> {
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await removeTreeAsync(child);
    else await unlink(child);
  }
  await rmdir(path);
}

/** Id dirs: random hex now, decimal in stores made before per-snapshot records. */
const ID_DIR = /^(?:[0-9a-f]{12}|\d+)$/;

/**
 * Whether recoverStore has work: a process that had the store open died without closing it (its
 * owner file is left), or the store is new or in the old format. Reading every record at each open
 * cost ~45 ms with 2,000 snapshots; this costs a directory listing.
 */
export function needsRecovery(root: string): boolean {
  if (!existsSync(join(root, RECORDS_DIR)) || existsSync(join(root, LEGACY_METADATA_FILE))) return true;
  return deadOwners(root).length > 0;
}

function deadOwners(root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(join(root, OWNERS_DIR));
  } catch {
    return [];
  }
  return names.filter((name) => !processTagAlive(name));
}

const owned = new Set<string>();

/**
 * Marks `root` as open by this process until it exits (the file goes in an exit handler; a killed
 * process leaves it, and the next open recovers). Once per root per process.
 */
export function registerOwner(root: string): void {
  if (owned.has(root)) return;
  const dir = join(root, OWNERS_DIR);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, processTag());
  closeSync(openSync(file, "w"));
  owned.add(root);
  process.once("exit", () => rmSync(file, { force: true }));
}

/**
 * Makes `root` ready and removes what a killed process may have left: temp files of unfinished
 * writes, torn records, active snapshots and views of processes that are gone, an active record
 * whose snapshot was committed (the commit's last step, the unlink, was cut), and id dirs that no
 * record names; then rewrites children.log from the records left (a killed process may have left
 * edges to snapshots it never made, and a power cut may have lost appends). Call with the snapshots
 * lock held.
 * Returns the names removed.
 */
export function recoverStore(root: string): string[] {
  mkdirSync(join(root, RECORDS_DIR), { recursive: true });
  migrateLegacyMetadata(root);
  const removed: string[] = [];
  const { records, other } = scanRecords(root);
  for (const name of other) {
    rmSync(join(root, RECORDS_DIR, name), { force: true });
    removed.push(`${RECORDS_DIR}/${name}`);
  }
  const committedIds = new Set([...records.values()].filter((r) => r.kind === "committed").map((r) => r.id));
  for (const [key, r] of records) {
    // An active snapshot or view of a process that is gone (a killed build), or one whose commit
    // was cut after the committed record was written.
    const abandoned = r.owner !== undefined && !processTagAlive(r.owner);
    if (r.kind !== "committed" && (committedIds.has(r.id) || abandoned)) {
      removeRecord(root, key);
      records.delete(key);
      removed.push(key);
    }
  }
  const used = new Set([...records.values()].map((r) => r.id));
  for (const name of readdirSync(root)) {
    if (name.startsWith(".tmp-") || (ID_DIR.test(name) && !used.has(name))) {
      rmSync(join(root, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  // Before the owner files go: they are what makes the next open recover if this is cut short.
  writeChildrenLog(root, parentEdges(records));
  for (const name of deadOwners(root)) rmSync(join(root, OWNERS_DIR, name), { force: true });
  return removed;
}

/** Turns a legacy metadata.json (all snapshots in one file) into records, then removes it. */
function migrateLegacyMetadata(root: string): void {
  const legacy = join(root, LEGACY_METADATA_FILE);
  if (!existsSync(legacy)) return;
  let db: { snapshots?: Record<string, SnapshotRecord> };
  try {
    db = JSON.parse(readFileSync(legacy, "utf8"));
  } catch (err) {
    throw new TsbuildError(`snapshot metadata ${legacy} is corrupt: ${(err as Error).message}`);
  }
  for (const [key, r] of Object.entries(db.snapshots ?? {})) {
    writeRecord(root, key, { ...r, kind: r.kind }, false);
  }
  fsyncDir(join(root, RECORDS_DIR));
  unlinkSync(legacy);
}
