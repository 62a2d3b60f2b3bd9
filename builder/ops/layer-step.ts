import { randomBytes } from "node:crypto";
import { sha256 } from "../../src/oci/digest.js";
import type { Digest } from "../../src/oci/types.js";
import { snapshotExists } from "../../snapshotter/exists.js";
import type { Mount } from "../../snapshotter/types.js";
import type { SandboxResult } from "../../native/sandbox.js";
import type { CacheRecord } from "../cache/records.js";
import { runUsage } from "../metrics.js";
import type { StageState } from "../state.js";
import type { OpContext } from "./context.js";

/** Chain id of a layer on top of a rootfs whose identity is `parent` ("scratch" for an empty one). */
export function childIdentity(parent: string, diffId: Digest): string {
  return parent === "scratch" ? diffId : sha256(`${parent} ${diffId}`);
}

/**
 * The shape every layer-producing op shares: an active snapshot over the stage's top, a mutation
 * (a sandboxed RUN, a COPY through a mount), then diff → layer blob → committed snapshot named by chain id.
 * The active snapshot is removed on every path; a snapshot with the same content is reused, not duplicated.
 */
export async function runLayerStep(
  ctx: OpContext,
  s: StageState,
  key: Digest,
  mutate: (mounts: Mount[]) => Promise<void>,
): Promise<CacheRecord> {
  const started = Date.now();
  // A miss: the RUNs after it will likely miss too, so their first sandbox gets made now.
  ctx.sandboxes?.prepare?.();
  const activeKey = `active/${randomBytes(8).toString("hex")}`;
  const mounts = await ctx.snapshotter.prepare(activeKey, s.snapshot);
  let committed = false;
  try {
    await mutate(mounts);
    ctx.signal.throwIfAborted();
    // Loaded on the first miss only: a fully cached rebuild never pays for the tar/compression modules.
    const { diffUpper } = await import("../../snapshotter/diff.js");
    const diff = await diffUpper({
      upperDir: await ctx.snapshotter.upperDir(activeKey),
      lowerDirs: await ctx.snapshotter.lowerDirs(activeKey),
      store: ctx.store,
      compression: ctx.compression,
      sourceDateEpoch: ctx.sourceDateEpoch,
    });
    const created = new Date().toISOString();
    if (ctx.step) ctx.step.layerBytes = diff.entries === 0 ? 0 : diff.layer.size;
    const times = { created, durationMs: Date.now() - started, lastUsed: created };
    let record: CacheRecord;
    if (diff.entries === 0) {
      // Nothing changed: no layer, the rootfs stays the parent's (BuildKit marks such steps empty_layer).
      record = { key, snapshot: s.snapshot, ...times };
    } else {
      const name = `chain:${childIdentity(s.identity, diff.diffId)}`;
      committed = await commitOrReuse(ctx, name, activeKey);
      record = { key, snapshot: name, layer: diff.layer, diffId: diff.diffId, ...times };
    }
    ctx.remoteCache?.observe(record);
    return record;
  } finally {
    if (!committed) await ctx.snapshotter.remove(activeKey).catch(() => undefined);
  }
}

/** Commits `activeKey` as `name` unless a snapshot of that name (same content) exists already. */
async function commitOrReuse(ctx: OpContext, name: string, activeKey: string): Promise<boolean> {
  if (await snapshotExists(ctx.snapshotter, name)) return false;
  try {
    await ctx.snapshotter.commit(name, activeKey);
    return true;
  } catch (err) {
    // A concurrent stage may have committed the identical layer first: theirs is as good as ours.
    if (await snapshotExists(ctx.snapshotter, name)) return false;
    throw err;
  }
}

/** Moves a stage forward by a step's result (fresh or from cache). */
export function applyRecord(s: StageState, record: CacheRecord, createdBy: string): void {
  if (record.layer && record.diffId && record.snapshot) {
    s.layers.push(record.layer);
    s.config.rootfs.diff_ids.push(record.diffId);
    s.identity = childIdentity(s.identity, record.diffId);
    s.snapshot = record.snapshot;
  }
  s.lastCreated = record.created;
  s.config.history = [
    ...(s.config.history ?? []),
    {
      created: record.created,
      created_by: createdBy,
      comment: "tsbuild",
      ...(record.layer ? {} : { empty_layer: true }),
    },
  ];
}

/**
 * Looks the key up; a record counts only if what it points at still exists (a pruned snapshot or blob
 * makes it a miss, never a broken image). A local miss falls back to the imported remote caches
 * (`--cache-from`), which fetch and unpack just that record's missing layers.
 */
export async function lookupCache(ctx: OpContext, key: Digest): Promise<CacheRecord | undefined> {
  if (ctx.step) ctx.step.cacheKey = key;
  if (ctx.noCache) return undefined;
  let rec = await localRecord(ctx, key);
  if (rec) ctx.cache.touch(rec);
  else rec = await ctx.remoteCache?.lookup(ctx, key);
  if (!rec) return undefined;
  ctx.remoteCache?.observe(rec);
  if (ctx.step) ctx.step.layerBytes = rec.layer?.size ?? 0;
  return rec;
}

async function localRecord(ctx: OpContext, key: Digest): Promise<CacheRecord | undefined> {
  const rec = ctx.cache.get(key);
  if (!rec) return undefined;
  if (rec.snapshot && !(await snapshotExists(ctx.snapshotter, rec.snapshot))) return undefined;
  if (rec.layer && !ctx.store.has(rec.layer.digest)) return undefined;
  return rec;
}

/** A RUN reports what its sandbox used (peak memory, CPU time) for the metrics file. */
export function noteRunUsage(ctx: OpContext, result: SandboxResult): void {
  if (ctx.step) ctx.step.run = runUsage(result);
}
