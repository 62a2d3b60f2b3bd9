// The build's snapshotter while remote caches are imported: a remote hit's snapshot is fetched and
// unpacked when something first builds on it or looks into it (prepare, view), not at the hit.
import type { Mount, SnapshotInfo, Snapshotter, Usage } from "../../../snapshotter/types.js";

/** What the wrapper asks of the remote cache session: make a snapshot local if it is a pending hit. */
export interface SnapshotMaterializer {
  ensureSnapshot(name: string | undefined): Promise<void>;
}

export class LazyRemoteSnapshotter implements Snapshotter {
  constructor(
    private readonly inner: Snapshotter,
    private readonly session: SnapshotMaterializer,
  ) {}

  async prepare(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]> {
    await this.session.ensureSnapshot(parent);
    return this.inner.prepare(key, parent, labels);
  }

  async view(key: string, parent: string, labels?: Record<string, string>): Promise<Mount[]> {
    await this.session.ensureSnapshot(parent);
    return this.inner.view(key, parent, labels);
  }

  mounts(key: string): Promise<Mount[]> {
    return this.inner.mounts(key);
  }
  commit(name: string, key: string, labels?: Record<string, string>): Promise<void> {
    return this.inner.commit(name, key, labels);
  }
  remove(key: string): Promise<void> {
    return this.inner.remove(key);
  }
  stat(key: string): Promise<SnapshotInfo> {
    return this.inner.stat(key);
  }
  walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void> {
    return this.inner.walk(fn);
  }
  usage(key: string): Promise<Usage> {
    return this.inner.usage(key);
  }
}
