// One build's view of remote caches: the imported ones (`--cache-from`, looked up when the local cache
// misses) and the records this build used or made (what `--cache-to` exports).
import type { Descriptor, Digest } from "../../../src/oci/types.js";
import type { ProgressSink } from "../../../src/progress/events.js";
import type { ContentStore } from "../../../src/store/types.js";
import { snapshotOfChain } from "../../../snapshotter/chain.js";
import { snapshotExists } from "../../../snapshotter/exists.js";
import type { Snapshotter } from "../../../snapshotter/types.js";
import { unpackLayers } from "../../../snapshotter/unpack.js";
import type { CacheRecord, CacheRecords } from "../records.js";
import { CacheIndex, type RemoteRecord } from "./format.js";
import { type CacheTransport, openTransport, type TransportOptions } from "./transport.js";
import { type CacheImportSpec, describeLocation } from "./spec.js";

interface ImportedCache {
  transport: CacheTransport;
  index: CacheIndex;
}

/**
 * What a session works with: the build's stores (the plain snapshotter, not the lazy one that wraps it),
 * its records (a remote hit made local is written as a local record) and its progress and signal.
 */
export interface RemoteCacheDeps {
  store: ContentStore;
  snapshotter: Snapshotter;
  cache: CacheRecords;
  progress: ProgressSink;
  signal: AbortSignal;
}

/**
 * Serves the step runner (lookup on a local miss, observe every result), COPY --from checksums
 * (stageSum, observeStageSum) and the lazy snapshotter (ensureSnapshot).
 */
export class RemoteCacheSession {
  readonly observed = new Map<Digest, CacheRecord>();
  readonly stageSums = new Map<string, string>();
  private readonly imports: ImportedCache[] = [];
  /** One download per blob per build, however many steps need it at once. */
  private readonly fetches = new Map<Digest, Promise<void>>();
  /** Snapshots of remote hits that are not local yet, by name: how to make each. */
  private readonly pending = new Map<string, () => Promise<void>>();
  private readonly making = new Map<string, Promise<void>>();

  constructor(private readonly deps: RemoteCacheDeps) {}

  observe(record: CacheRecord): void {
    this.observed.set(record.key, record);
  }

  observeStageSum(memoKey: string, sum: string): void {
    this.stageSums.set(memoKey, sum);
  }

  stageSum(memoKey: string): string | undefined {
    for (const imp of this.imports) {
      const sum = imp.index.stageSums.get(memoKey);
      if (sum !== undefined) return sum;
    }
    return undefined;
  }

  /** Makes a remote hit's snapshot local if it is one that is not yet (fetch and unpack, once). */
  async ensureSnapshot(name: string | undefined): Promise<void> {
    if (name === undefined) return;
    const make = this.pending.get(name);
    if (!make) return;
    let p = this.making.get(name);
    if (!p) {
      p = make().then(() => void this.pending.delete(name));
      p.catch(() => this.making.delete(name));
      this.making.set(name, p);
    }
    await p;
  }

  /** Fetches the blobs among `layers` that the store lacks, from the caches that list them. */
  async ensureBlobs(layers: Descriptor[]): Promise<void> {
    await Promise.all(
      layers.map((layer) => {
        if (this.deps.store.has(layer.digest)) return undefined;
        const imp = this.imports.find((i) => i.index.layers.has(layer.digest));
        return imp ? this.fetch(imp, layer) : undefined;
      }),
    );
  }

  /**
   * Reads each cache's manifest and config (no layers). A cache that is not there yet (a first run)
   * or cannot be read is a warning: the build goes on without it, as BuildKit's does.
   */
  async load(specs: CacheImportSpec[], opts: TransportOptions): Promise<void> {
    const { store } = this.deps;
    const loaded = await Promise.all(
      specs.map(async (spec) => {
        const transport = openTransport(spec, opts);
        try {
          const cache = await transport.load(store);
          if (!cache) {
            opts.progress?.emit({
              type: "warning",
              code: "CacheImport",
              message: `cache ${describeLocation(spec)}: not found, building without it`,
            });
            return undefined;
          }
          const index = new CacheIndex(cache.config, cache.layers);
          opts.progress?.emit({
            type: "info",
            message: `importing cache ${transport.name}: ${index.records.size} records, ${index.layers.size} layers`,
          });
          return { transport, index };
        } catch (err) {
          opts.progress?.emit({
            type: "warning",
            code: "CacheImport",
            message: `cache ${describeLocation(spec)}: ${(err as Error).message}; building without it`,
          });
          return undefined;
        }
      }),
    );
    for (const c of loaded) if (c) this.imports.push(c);
  }

  async lookup(key: Digest): Promise<CacheRecord | undefined> {
    for (const imp of this.imports) {
      const rec = imp.index.records.get(key);
      if (!rec) continue;
      try {
        return this.deferMaterialize(imp, rec);
      } catch (err) {
        if (this.deps.signal.aborted) throw err;
        this.deps.progress.emit({
          type: "warning",
          code: "CacheImport",
          message: `cache ${imp.transport.name}: record ${key.slice(7, 19)}: ${(err as Error).message}; running the step`,
        });
      }
    }
    return undefined;
  }

  /**
   * A remote hit, as a record the build can apply at once. Its snapshot is made local later, if at
   * all (ensureSnapshot): the blobs of its chain that the store lacks are fetched then (only then, and
   * only these), unpacked into `chain:` snapshots, and a local record is written. A stage whose
   * result only feeds COPY --from checksums the cache knows is never fetched.
   */
  private deferMaterialize(imp: ImportedCache, rec: RemoteRecord): CacheRecord {
    const chain = imp.index.chainLayers(rec.chain); // checks the cache can rebuild it, before we rely on it
    const layer = rec.layerDigest ? imp.index.layers.get(rec.layerDigest) : undefined;
    const record: CacheRecord = {
      key: rec.key,
      snapshot: snapshotOfChain(rec.chain),
      ...(layer && rec.diffId ? { layer, diffId: rec.diffId } : {}),
      created: rec.created,
      durationMs: rec.durationMs,
      lastUsed: new Date().toISOString(),
    };
    if (record.snapshot === undefined) return record;
    const previous = this.pending.get(record.snapshot);
    const { snapshotter, store, signal, cache } = this.deps;
    this.pending.set(record.snapshot, async () => {
      await previous?.();
      // Another record of the same rootfs (a step that changed nothing) may have made it already.
      if (!(await snapshotExists(snapshotter, record.snapshot!))) {
        await Promise.all(chain.map(({ layer: l }) => this.fetch(imp, l)));
        signal.throwIfAborted();
        await unpackLayers(
          snapshotter,
          store,
          chain.map((c) => c.layer),
          chain.map((c) => c.diffId),
        );
      }
      cache.put(record);
    });
    return record;
  }

  private fetch(imp: ImportedCache, layer: Descriptor): Promise<void> {
    const { store } = this.deps;
    if (store.has(layer.digest)) return Promise.resolve();
    let p = this.fetches.get(layer.digest);
    if (!p) {
      p = imp.transport.fetchBlob(layer, store);
      // A failed download may be tried again by a later step (or from another cache).
      p.catch(() => this.fetches.delete(layer.digest));
      this.fetches.set(layer.digest, p);
    }
    return p;
  }
}
