// The miss path every layer op shares: an active snapshot over the stage's top, the op's work on it,
// then diff → layer blob → committed snapshot named by chain id. The active snapshot is removed on
// every path; a snapshot with the same content is reused, not duplicated.
import { randomBytes } from "node:crypto";
import type { Digest } from "../../src/oci/types.js";
import type { ContentStore } from "../../src/store/types.js";
import { chainSnapshotName, childChain } from "../../snapshotter/chain.js";
import { snapshotExists } from "../../snapshotter/exists.js";
import { snapshotDirs } from "../../snapshotter/mount.js";
import type { Snapshotter } from "../../snapshotter/types.js";
import type { KeyScope } from "../cache/keys.js";
import type { CacheRecord } from "../cache/records.js";
import type { ExecReport, LayerOp } from "../ops/op.js";
import type { StageState } from "../state.js";

export interface LayerMaker {
  store: ContentStore;
  snapshotter: Snapshotter;
  signal: AbortSignal;
  /** How layers are written (compression, SOURCE_DATE_EPOCH), with the rest of what keys include. */
  scope: KeyScope;
}

export interface MadeLayer {
  record: CacheRecord;
  report: ExecReport;
  /** Compressed size of the new layer; 0 when the step changed nothing. */
  layerBytes: number;
}

export async function makeLayer(m: LayerMaker, s: StageState, key: Digest, op: LayerOp): Promise<MadeLayer> {
  const started = Date.now();
  const activeKey = `active/${randomBytes(8).toString("hex")}`;
  const mounts = await m.snapshotter.prepare(activeKey, s.snapshot);
  let committed = false;
  try {
    const report = await op.exec(mounts);
    m.signal.throwIfAborted();
    // Loaded on the first miss only: a fully cached rebuild never pays for the tar/compression modules.
    const { diffUpper } = await import("../../snapshotter/diff.js");
    const dirs = snapshotDirs(mounts);
    const diff = await diffUpper({
      upperDir: dirs.upper!,
      lowerDirs: dirs.lowers,
      store: m.store,
      compression: m.scope.compression,
      sourceDateEpoch: m.scope.sourceDateEpoch,
      xattrs: m.scope.xattrs,
    });
    const created = new Date().toISOString();
    const times = { created, durationMs: Date.now() - started, lastUsed: created };
    if (diff.entries === 0) {
      // Nothing changed: no layer, the rootfs stays the parent's (BuildKit marks such steps empty_layer).
      return { record: { key, snapshot: s.snapshot, ...times }, report, layerBytes: 0 };
    }
    const name = chainSnapshotName(childChain(s.identity, diff.diffId));
    committed = await commitOrReuse(m.snapshotter, name, activeKey);
    const record = { key, snapshot: name, layer: diff.layer, diffId: diff.diffId, ...times };
    return { record, report, layerBytes: diff.layer.size };
  } finally {
    if (!committed) await m.snapshotter.remove(activeKey).catch(() => undefined);
  }
}

/** Commits `activeKey` as `name` unless a snapshot of that name (same content) exists already. */
async function commitOrReuse(sn: Snapshotter, name: string, activeKey: string): Promise<boolean> {
  if (await snapshotExists(sn, name)) return false;
  try {
    await sn.commit(name, activeKey);
    return true;
  } catch (err) {
    // A concurrent stage may have committed the identical layer first: theirs is as good as ours.
    if (await snapshotExists(sn, name)) return false;
    throw err;
  }
}
