// `tsbuild prune`: least-recently-used cache records and cache mounts go first, then the snapshots and
// blobs that nothing kept (a record or a tagged image) reaches any more. Never runs beside a build
// (src/store/in-use.ts), so no cache mount is in use while it runs. The policy lives here, beside the
// cache records it weighs; the stores it sweeps only offer walks and deletes.
import { readdirSync, rmSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import pLimit from "p-limit";
import { TsbuildError } from "../../../src/errors.js";
import { readImage } from "../../../src/image/read.js";
import { referencedBlobs } from "../../../src/image/walk.js";
import { INDEX_LOCK } from "../../../src/store/content.js";
import { GC_LOCK, liveBuilds } from "../../../src/store/in-use.js";
import { withStoreLock } from "../../../src/store/lock.js";
import { sweepTemps } from "../../../src/util/temp-files.js";
import type { ContentStore } from "../../../src/store/types.js";
import { chainSnapshotName, topChain, SCRATCH } from "../../../snapshotter/chain.js";
import { diskUsage } from "../../../snapshotter/overlay.js";
import type { SnapshotInfo, Snapshotter } from "../../../snapshotter/types.js";
import { listCacheMounts } from "../../ops/mounts/cache-dir.js";
import { sweepStaleCgroups } from "../../ops/run-limits.js";
import { CacheRecords, type CacheRecord } from "../records.js";
import { type Candidate, type PrunePolicy, recordsToKeep } from "./select.js";

export type { PrunePolicy } from "./select.js";

/** Snapshot removals in flight at once: the thread pool's size. */
const REMOVALS_AT_ONCE = 4;

export interface PruneReport {
  records: { removed: number; kept: number };
  /** RUN --mount=type=cache dirs: kept by a plain prune, chosen by last use like records otherwise. */
  cacheMounts: { removed: number; bytes: number };
  snapshots: { removed: number; bytes: number };
  blobs: { removed: number; bytes: number };
}

export interface PruneTarget {
  root: string;
  store: ContentStore;
  snapshotter: Snapshotter;
}

export async function pruneStore(
  t: PruneTarget,
  policy: PrunePolicy,
  now = Date.now(),
): Promise<PruneReport> {
  sweepStaleCgroups();
  return withStoreLock(t.root, GC_LOCK, async () => {
    const live = liveBuilds(t.root);
    if (live.length > 0) {
      const who = live.map((b) => `pid ${b.pid} since ${b.started}`).join(", ");
      throw new TsbuildError(
        `store ${t.root} is in use by a running build (${who}); prune again when it ends`,
      );
    }
    return withStoreLock(t.root, INDEX_LOCK, () => collect(t, policy, now));
  });
}

/** The store's snapshots, what a chain of them needs, and their sizes (measured once, when asked). */
class SnapshotSet {
  readonly byName = new Map<string, SnapshotInfo>();
  private readonly sizes = new Map<string, Promise<number>>();

  constructor(private readonly sn: Snapshotter) {}

  async load(): Promise<this> {
    await this.sn.walk((info) => void this.byName.set(info.name, info));
    return this;
  }

  /** A snapshot and every parent, each of which it needs to mount. */
  chainOf(name: string | undefined): string[] {
    const out: string[] = [];
    for (let n = name; n !== undefined && this.byName.has(n); n = this.byName.get(n)?.parent) out.push(n);
    return out;
  }

  usage(name: string): Promise<number> {
    let n = this.sizes.get(name);
    if (n === undefined) {
      n = this.byName.has(name)
        ? this.sn.usage(name).then(
            (u) => u.size,
            () => 0,
          )
        : Promise.resolve(0);
      this.sizes.set(name, n);
    }
    return n;
  }
}

/** What tagged images pin: their blobs (with sizes) and the snapshots their layers were unpacked or built into. */
async function pinnedByImages(store: ContentStore, snaps: SnapshotSet) {
  const images = await store.listImages();
  const blobs = await referencedBlobs(
    store,
    images.map((i) => i.target),
  );
  const snapshots = new Set<string>();
  for (const img of images) {
    const diffIds = await readImage(store, img.target.digest).then(
      (i) => i.config.rootfs?.diff_ids ?? [],
      () => [], // an index or a foreign manifest: its blobs are pinned above, it has no snapshots
    );
    const top = topChain(diffIds);
    if (top !== SCRATCH) for (const n of snaps.chainOf(chainSnapshotName(top))) snapshots.add(n);
  }
  return { snapshots, blobSize: new Map(blobs.present.map((d) => [d.digest, d.size])) };
}

async function collect(t: PruneTarget, policy: PrunePolicy, now: number): Promise<PruneReport> {
  const cache = new CacheRecords(join(t.root, "cache"));
  // Writes a killed process cut short: record temps, index.json temps, blob copies.
  cache.sweepTemps();
  sweepTemps(t.root);
  sweepTemps(join(t.root, "blobs", "sha256"));
  const snaps = await new SnapshotSet(t.snapshotter).load();
  const pinned = await pinnedByImages(t.store, snaps);
  const records = cache.list();
  const sized = policy.keepStorage !== undefined;
  const candidates = await recordCandidates(t.store, records, snaps, sized);
  const mounts = listCacheMounts(t.root);
  const mountBytes = memo((dir: string) => diskUsage(dir).size);
  // Cache mounts compete with records for the same budget, by their last use; leftovers of killed
  // builds (private copies, half-made dirs) always go.
  for (const m of mounts) {
    candidates.push({
      key: `cache-mount ${m.dir}`,
      lastUsed: new Date(m.lastUsedMs).toISOString(),
      intact: !m.leftover,
      holds: new Map(sized ? [[`cache-mount ${m.dir}`, mountBytes(m.dir)]] : []),
    });
  }
  const pinnedSizes = new Map<string, number>();
  if (sized) {
    for (const n of pinned.snapshots) pinnedSizes.set(`snapshot ${n}`, await snaps.usage(n));
    for (const [d, size] of pinned.blobSize) pinnedSizes.set(`blob ${d}`, size);
  }
  const keep = recordsToKeep(candidates, policy, now, pinnedSizes);

  const keptSnapshots = new Set(pinned.snapshots);
  const keptBlobs = new Set(pinned.blobSize.keys());
  const limit = pLimit(REMOVALS_AT_ONCE);
  const dropped: Promise<void>[] = [];
  for (const r of records) {
    if (!keep.has(r.key)) {
      dropped.push(limit(() => cache.removeAsync(r.key)));
      continue;
    }
    for (const n of snaps.chainOf(r.snapshot)) keptSnapshots.add(n);
    if (r.layer) keptBlobs.add(r.layer.digest);
  }
  await Promise.all(dropped);
  if (policy.all) pruneChecksumMemos(t.root);
  const keptRecords = records.filter((r) => keep.has(r.key)).length;
  const report: PruneReport = {
    records: { removed: records.length - keptRecords, kept: keptRecords },
    cacheMounts: { removed: 0, bytes: 0 },
    snapshots: await removeSnapshots(t.snapshotter, snaps, keptSnapshots),
    blobs: removeBlobs(t.store, keptBlobs),
  };
  for (const m of mounts) {
    if (keep.has(`cache-mount ${m.dir}`)) continue;
    report.cacheMounts.bytes += mountBytes(m.dir);
    rmSync(m.dir, { recursive: true, force: true });
    report.cacheMounts.removed++;
  }
  return report;
}

/** Each record as a candidate for keeping: whether it is intact, and (for --keep-storage) what it holds. */
async function recordCandidates(
  store: ContentStore,
  records: CacheRecord[],
  snaps: SnapshotSet,
  sized: boolean,
): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for (const r of records) {
    const intact =
      (r.snapshot === undefined || snaps.byName.get(r.snapshot)?.kind === "committed") &&
      (r.layer === undefined || store.has(r.layer.digest));
    const holds = new Map<string, number>();
    if (sized && intact) {
      for (const n of snaps.chainOf(r.snapshot)) holds.set(`snapshot ${n}`, await snaps.usage(n));
      if (r.layer) holds.set(`blob ${r.layer.digest}`, r.layer.size);
    }
    out.push({ key: r.key, lastUsed: r.lastUsed, intact, holds });
  }
  return out;
}

/**
 * Removes every snapshot not kept, children before parents (a snapshot with a child cannot be
 * removed): the deepest first, and those of one depth several at a time, since none of them is
 * another's parent and deleting trees overlaps well (a disk mounted with `discard` waits on every
 * freed block). Active snapshots and views are leftovers of killed builds here (no build is running).
 */
async function removeSnapshots(sn: Snapshotter, snaps: SnapshotSet, kept: Set<string>) {
  const byDepth = new Map<number, string[]>();
  for (const name of snaps.byName.keys()) {
    if (kept.has(name)) continue;
    const depth = snaps.chainOf(name).length;
    const level = byDepth.get(depth);
    if (level) level.push(name);
    else byDepth.set(depth, [name]);
  }
  const removed = { removed: 0, bytes: 0 };
  const limit = pLimit(REMOVALS_AT_ONCE);
  for (const depth of [...byDepth.keys()].sort((a, b) => b - a)) {
    await Promise.all(
      byDepth.get(depth)!.map((name) =>
        limit(async () => {
          const bytes = await snaps.usage(name);
          await sn.remove(name);
          removed.removed++;
          removed.bytes += bytes;
        }),
      ),
    );
  }
  return removed;
}

function removeBlobs(store: ContentStore, kept: Set<string>) {
  const removed = { removed: 0, bytes: 0 };
  for (const digest of store.listBlobs()) {
    if (kept.has(digest)) continue;
    removed.bytes += store.deleteBlob(digest);
    removed.removed++;
  }
  return removed;
}

function memo<T>(f: (key: string) => T): (key: string) => T {
  const values = new Map<string, T>();
  return (key) => {
    if (!values.has(key)) values.set(key, f(key));
    return values.get(key)!;
  };
}

/** `--all` also drops the memo of context file checksums: it is a cache too, rebuilt on the next build. */
function pruneChecksumMemos(root: string): void {
  const dir = join(root, "cache", "checksums");
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) unlinkSync(join(dir, name));
}
