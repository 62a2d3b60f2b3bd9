// `tsbuild prune`: least-recently-used cache records and cache mounts go first, then the snapshots and
// blobs that nothing kept (a record or a tagged image) reaches any more. Never runs beside a build
// (gc/in-use.ts), so no cache mount is in use while it runs.
import { readdirSync, rmSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { CacheRecords } from "../../builder/cache/records.js";
import { listCacheMounts } from "../../builder/ops/mounts/cache-dir.js";
import { diskUsage } from "../../snapshotter/overlay.js";
import { chainSnapshotName } from "../../snapshotter/unpack.js";
import type { SnapshotInfo, Snapshotter } from "../../snapshotter/types.js";
import { TsbuildError } from "../errors.js";
import { readImage } from "../image/read.js";
import { referencedBlobs } from "../image/walk.js";
import { chainIds } from "../oci/digest.js";
import { INDEX_LOCK } from "./content.js";
import { GC_LOCK, liveBuilds } from "./gc/in-use.js";
import { type Candidate, type PrunePolicy, recordsToKeep } from "./gc/select.js";
import { withStoreLock } from "./lock.js";
import type { ContentStore } from "./types.js";

export type { PrunePolicy } from "./gc/select.js";

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

async function collect(t: PruneTarget, policy: PrunePolicy, now: number): Promise<PruneReport> {
  const cache = new CacheRecords(join(t.root, "cache"));
  const snaps = new Map<string, SnapshotInfo>();
  await t.snapshotter.walk((info) => {
    snaps.set(info.name, info);
  });
  const usage = memoUsage(t.snapshotter, snaps);
  // The chain of a snapshot: itself and every parent, each of which it needs to mount.
  const chainOf = (name: string | undefined): string[] => {
    const out: string[] = [];
    for (let n = name; n !== undefined && snaps.has(n); n = snaps.get(n)?.parent) out.push(n);
    return out;
  };

  // What tagged images pin: their blobs and the snapshots their layers were unpacked or built into.
  const images = await t.store.listImages();
  const imageBlobs = await referencedBlobs(
    t.store,
    images.map((i) => i.target),
  );
  const pinnedSnapshots = new Set<string>();
  for (const img of images) {
    const diffIds = await readImage(t.store, img.target.digest).then(
      (i) => i.config.rootfs?.diff_ids ?? [],
      () => [], // an index or a foreign manifest: its blobs are pinned above, it has no snapshots
    );
    const top = chainIds(diffIds).at(-1);
    if (top) for (const n of chainOf(chainSnapshotName(top))) pinnedSnapshots.add(n);
  }
  const blobSize = new Map(imageBlobs.present.map((d) => [d.digest, d.size]));

  const records = cache.list();
  const candidates: Candidate[] = [];
  for (const r of records) {
    const intact =
      (r.snapshot === undefined || snaps.get(r.snapshot)?.kind === "committed") &&
      (r.layer === undefined || t.store.has(r.layer.digest));
    const holds = new Map<string, number>();
    if (policy.keepStorage !== undefined && intact) {
      for (const n of chainOf(r.snapshot)) holds.set(`snapshot ${n}`, await usage(n));
      if (r.layer) holds.set(`blob ${r.layer.digest}`, r.layer.size);
    }
    candidates.push({ key: r.key, lastUsed: r.lastUsed, intact, holds });
  }
  const pinned = new Map<string, number>();
  if (policy.keepStorage !== undefined) {
    for (const n of pinnedSnapshots) pinned.set(`snapshot ${n}`, await usage(n));
    for (const [d, size] of blobSize) pinned.set(`blob ${d}`, size);
  }
  // Cache mounts compete with records for the same budget, by their last use; leftovers of killed
  // builds (private copies, half-made dirs) always go.
  const mounts = listCacheMounts(t.root);
  const mountBytes = new Map<string, number>();
  const mountBytesOf = (dir: string): number => {
    let n = mountBytes.get(dir);
    if (n === undefined) mountBytes.set(dir, (n = diskUsage(dir).size));
    return n;
  };
  for (const m of mounts) {
    candidates.push({
      key: `cache-mount ${m.dir}`,
      lastUsed: new Date(m.lastUsedMs).toISOString(),
      intact: !m.leftover,
      holds: new Map(policy.keepStorage !== undefined ? [[`cache-mount ${m.dir}`, mountBytesOf(m.dir)]] : []),
    });
  }
  const keep = recordsToKeep(candidates, policy, now, pinned);

  const keptSnapshots = new Set(pinnedSnapshots);
  const keptBlobs = new Set(blobSize.keys());
  for (const r of records) {
    if (!keep.has(r.key)) {
      cache.remove(r.key);
      continue;
    }
    for (const n of chainOf(r.snapshot)) keptSnapshots.add(n);
    if (r.layer) keptBlobs.add(r.layer.digest);
  }
  if (policy.all) pruneChecksumMemos(t.root);

  const keptRecords = records.filter((r) => keep.has(r.key)).length;
  const report: PruneReport = {
    records: { removed: records.length - keptRecords, kept: keptRecords },
    cacheMounts: { removed: 0, bytes: 0 },
    snapshots: { removed: 0, bytes: 0 },
    blobs: { removed: 0, bytes: 0 },
  };
  for (const m of mounts) {
    if (keep.has(`cache-mount ${m.dir}`)) continue;
    report.cacheMounts.bytes += mountBytesOf(m.dir);
    rmSync(m.dir, { recursive: true, force: true });
    report.cacheMounts.removed++;
  }
  // Children before parents: a snapshot with a child cannot be removed. Active snapshots and views
  // are leftovers of killed builds here (no build is running).
  const doomed = [...snaps.keys()].filter((n) => !keptSnapshots.has(n));
  doomed.sort((a, b) => chainOf(b).length - chainOf(a).length);
  for (const name of doomed) {
    const bytes = await usage(name);
    await t.snapshotter.remove(name);
    report.snapshots.removed++;
    report.snapshots.bytes += bytes;
  }

  const blobDir = join(t.root, "blobs", "sha256");
  for (const hex of readdirSync(blobDir)) {
    if (keptBlobs.has(`sha256:${hex}`)) continue;
    const path = join(blobDir, hex);
    const bytes = statSync(path).size;
    unlinkSync(path);
    report.blobs.removed++;
    report.blobs.bytes += bytes;
  }
  return report;
}

/** Disk usage per snapshot, measured once (a walk of its tree) and only when asked for. */
function memoUsage(sn: Snapshotter, snaps: Map<string, SnapshotInfo>): (name: string) => Promise<number> {
  const sizes = new Map<string, Promise<number>>();
  return (name) => {
    let n = sizes.get(name);
    if (n === undefined) {
      n = snaps.has(name)
        ? sn.usage(name).then(
            (u) => u.size,
            () => 0,
          )
        : Promise.resolve(0);
      sizes.set(name, n);
    }
    return n;
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
