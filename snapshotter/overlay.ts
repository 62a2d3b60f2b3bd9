import { lstatSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TsbuildError } from "../src/errors.js";
import { withStoreLock } from "../src/store/lock.js";
import { processTag } from "../src/util/process.js";
import { ChildIndex } from "./children.js";
import {
  createIdDir,
  listRecords,
  needsRecovery,
  parentEdges,
  readRecord,
  recoverStore,
  registerOwner,
  removeIdDirAsync,
  removeRecord,
  type SnapshotRecord,
  writeRecord,
} from "./metadata.js";
import { type ChainEntry, lowerDirsOf } from "./flatten.js";
import { OVERLAY_DEFAULTS, overlayMount } from "./mount.js";
import type { Mount, SnapshotInfo, Snapshotter, Usage } from "./types.js";

const LOCK = "snapshots";

/**
 * Opens (creating) an overlay snapshotter rooted at `root` (e.g. $TSBUILD_ROOT/snapshots) and
 * clears what a killed process left behind.
 */
export async function openOverlaySnapshotter(root: string): Promise<OverlaySnapshotter> {
  mkdirSync(root, { recursive: true });
  await withStoreLock(root, LOCK, () => {
    if (needsRecovery(root)) recoverStore(root);
    registerOwner(root);
  });
  return new OverlaySnapshotter(root);
}

/**
 * containerd's overlay snapshotter, in files: `root/<id>/fs` holds a snapshot's own tree (the
 * overlay upper while active, a lower once committed), `root/<id>/work` the overlay workdir, and
 * `root/records/<key>.json` each snapshot's state (metadata.ts), `root/children.log` which snapshots
 * are based on which (children.ts). Mutations hold a file lock, so several processes may share one
 * root; reads take the atomically written records as they are.
 */
export class OverlaySnapshotter implements Snapshotter {
  /** Committed records never change until removed: chain walks read them once per process. */
  private readonly committed = new Map<string, SnapshotRecord>();
  private readonly children: ChildIndex;

  constructor(readonly root: string) {
    this.children = new ChildIndex(root, () => parentEdges(listRecords(root)));
  }

  private fsDir(r: SnapshotRecord): string {
    return join(this.root, r.id, "fs");
  }

  private find(key: string): SnapshotRecord | undefined {
    const known = this.committed.get(key);
    if (known) return known;
    const r = readRecord(this.root, key);
    if (r?.kind === "committed") this.committed.set(key, r);
    return r;
  }

  private get(key: string): SnapshotRecord {
    const r = this.find(key);
    if (!r) throw new TsbuildError(`snapshot ${key}: not found`);
    return r;
  }

  private locked<T>(fn: () => T): Promise<T> {
    return withStoreLock(this.root, LOCK, fn);
  }

  /** The committed snapshots from `name` down to the base, nearest first. */
  private chain(name: string | undefined): ChainEntry[] {
    const chain: ChainEntry[] = [];
    for (let n = name; n !== undefined;) {
      const r = this.get(n);
      chain.push({ fsDir: this.fsDir(r), idDir: join(this.root, r.id) });
      n = r.parent;
    }
    return chain;
  }

  private mountsOf(key: string, r: SnapshotRecord): Mount[] {
    // Past overlay's 500 lowers, the deepest ones are one flattened lower (flatten.ts).
    const lowers = lowerDirsOf(this.chain(r.parent));
    if (r.kind === "committed") {
      throw new TsbuildError(`snapshot ${key}: committed snapshots have no mounts; make a view of it`);
    }
    if (r.kind === "active" && lowers.length === 0) {
      return [{ type: "bind", source: this.fsDir(r), options: ["rbind", "rw"] }];
    }
    if (r.kind === "view" && lowers.length === 1) {
      return [{ type: "bind", source: lowers[0]!, options: ["rbind", "ro"] }];
    }
    const active = r.kind === "active";
    return [
      overlayMount({
        lowerdirs: lowers,
        upperdir: active ? this.fsDir(r) : undefined,
        workdir: active ? join(this.root, r.id, "work") : undefined,
        options: OVERLAY_DEFAULTS,
      }),
    ];
  }

  private create(
    kind: "active" | "view",
    key: string,
    parent: string | undefined,
    labels: Record<string, string>,
  ): Promise<Mount[]> {
    return this.locked(() => {
      if (this.find(key)) throw new TsbuildError(`snapshot ${key}: already exists`);
      if (parent !== undefined) {
        const p = this.find(parent);
        if (!p) throw new TsbuildError(`snapshot ${key}: parent ${parent} not found`);
        if (p.kind !== "committed") {
          throw new TsbuildError(`snapshot ${key}: parent ${parent} is ${p.kind}, not committed`);
        }
      }
      const id = createIdDir(this.root);
      const now = new Date().toISOString();
      const r: SnapshotRecord = {
        id,
        kind,
        labels: { ...labels },
        created: now,
        updated: now,
        owner: processTag(),
      };
      if (parent !== undefined) r.parent = parent;
      try {
        // The index first: it may name a child that does not exist, never miss one that does. Not
        // undone if the write fails: the record may be in place all the same (a failed fsync).
        if (parent !== undefined) this.children.add(parent, key);
        writeRecord(this.root, key, r, true);
      } catch (err) {
        rmSync(join(this.root, id), { recursive: true, force: true });
        throw err;
      }
      return this.mountsOf(key, r);
    });
  }

  prepare(key: string, parent?: string, labels: Record<string, string> = {}): Promise<Mount[]> {
    return this.create("active", key, parent, labels);
  }

  view(key: string, parent: string, labels: Record<string, string> = {}): Promise<Mount[]> {
    return this.create("view", key, parent, labels);
  }

  async mounts(key: string): Promise<Mount[]> {
    return this.mountsOf(key, this.get(key));
  }

  /**
   * The caller must have unmounted the active snapshot. Its overlay work dir stays as it is (with a
   * volatile mount's dirty marker): a committed snapshot is only ever a lowerdir from now on, and
   * emptying it cost a readdir and five unlinks or rmdirs a step; remove() takes it with the id.
   */
  async commit(name: string, key: string, labels: Record<string, string> = {}): Promise<void> {
    await this.locked(() => {
      const r = this.get(key);
      if (r.kind !== "active")
        throw new TsbuildError(`snapshot ${key}: is ${r.kind}; only active snapshots can be committed`);
      if (this.find(name)) throw new TsbuildError(`snapshot ${name}: already exists`);
      const { owner: _owner, ...rest } = r;
      const committed: SnapshotRecord = {
        ...rest,
        kind: "committed",
        labels: { ...r.labels, ...labels },
        updated: new Date().toISOString(),
      };
      // Durable first, then the active record goes: a crash in between leaves both, and open()
      // drops the active one (same id). The index gains the new child before its record exists
      // and loses the old one after, so that it never misses a child.
      if (r.parent !== undefined) this.children.add(r.parent, name);
      writeRecord(this.root, name, committed, true);
      removeRecord(this.root, key);
      if (r.parent !== undefined) this.children.delete(r.parent, key);
      this.committed.set(name, committed);
    });
  }

  async remove(key: string): Promise<void> {
    const id = await this.locked(() => {
      const r = this.get(key);
      if (r.kind === "committed") {
        const child = this.children.childrenOf(key).find((c) => this.basedOn(c, key));
        if (child) throw new TsbuildError(`snapshot ${key}: cannot remove, ${child} is based on it`);
      }
      removeRecord(this.root, key);
      this.committed.delete(key);
      if (r.parent !== undefined) this.children.delete(r.parent, key);
      return r.id;
    });
    // Outside the lock: a big tree takes a while, and an interrupted removal is collected at open.
    await removeIdDirAsync(join(this.root, id));
  }

  /**
   * Whether the record of `child` (read now, under the lock) has `parent` as parent: the index may
   * still name a child a killed process left half made or half removed. A record that cannot be
   * read counts as a child: better to keep a parent than to break what is based on it.
   */
  private basedOn(child: string, parent: string): boolean {
    try {
      return readRecord(this.root, child)?.parent === parent;
    } catch {
      return true;
    }
  }

  private info(name: string, r: SnapshotRecord): SnapshotInfo {
    const info: SnapshotInfo = {
      name,
      kind: r.kind,
      id: r.id,
      labels: r.labels,
      created: r.created,
      updated: r.updated,
    };
    if (r.parent !== undefined) info.parent = r.parent;
    return info;
  }

  async stat(key: string): Promise<SnapshotInfo> {
    // Read from disk, not the cache: another process may have removed it.
    const r = readRecord(this.root, key);
    if (!r) {
      this.committed.delete(key);
      throw new TsbuildError(`snapshot ${key}: not found`);
    }
    return this.info(key, r);
  }

  async walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void> {
    const records = listRecords(this.root);
    for (const name of [...records.keys()].sort()) {
      const r = records.get(name)!;
      // Kept like find() keeps them: a prune asks usage() and remove() of each next, which read
      // 2,000 records again (~55 ms) when they were not.
      if (r.kind === "committed") this.committed.set(name, r);
      await fn(this.info(name, r));
    }
  }

  async usage(key: string): Promise<Usage> {
    return diskUsage(this.fsDir(this.get(key)));
  }
}

/** Bytes allocated and inodes used under `dir`, each hard-linked inode counted once. */
export function diskUsage(dir: string): Usage {
  const seen = new Set<number>();
  const usage: Usage = { size: 0, inodes: 0 };
  const visit = (path: string) => {
    const st = lstatSync(path);
    if (st.nlink > 1 && !st.isDirectory()) {
      if (seen.has(st.ino)) return;
      seen.add(st.ino);
    }
    usage.size += st.blocks * 512;
    usage.inodes++;
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(dir);
  return usage;
}
