// The build's snapshotter while remote caches are imported: a remote hit's snapshot is fetched and
// unpacked when something first builds on it or looks into it (prepare, view), not at the hit.
import type { Mount, SnapshotInfo, Snapshotter, Usage } from "../../../snapshotter/types.js";
import type { OpContext } from "../../ops/context.js";
import type { RemoteCacheSession } from "./session.js";

export class LazyRemoteSnapshotter implements Snapshotter {
  constructor(
    private readonly inner: Snapshotter,
    private readonly session: RemoteCacheSession,
    /** The build's context (for fetching), set once it exists. */
    private readonly ctx: () => OpContext,
  ) {}

  async prepare(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]> {
    await this.session.ensureSnapshot(this.ctx(), parent);
    return this.inner.prepare(key, parent, labels);
  }

  async view(key: string, parent: string, labels?: Record<string, string>): Promise<Mount[]> {
    await this.session.ensureSnapshot(this.ctx(), parent);
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
  upperDir(key: string): Promise<string> {
    return this.inner.upperDir(key);
  }
  lowerDirs(key: string): Promise<string[]> {
    return this.inner.lowerDirs(key);
  }
}
