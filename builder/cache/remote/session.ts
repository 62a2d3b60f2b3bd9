// One build's view of remote caches: the imported ones (`--cache-from`, looked up when the local cache
// misses) and the records this build used or made (what `--cache-to` exports).
import type { Descriptor, Digest } from "../../../src/oci/types.js";
import type { ContentStore } from "../../../src/store/types.js";
import { unpackLayers } from "../../../snapshotter/unpack.js";
import type { OpContext } from "../../ops/context.js";
import type { CacheRecord } from "../records.js";
import { CacheIndex, chainSnapshot, type RemoteRecord } from "./format.js";
import { type CacheTransport, openTransport, type TransportOptions } from "./transport.js";
import { type CacheImportSpec, describeLocation } from "./spec.js";

interface ImportedCache {
  transport: CacheTransport;
  index: CacheIndex;
}

/** What the ops see of the remote cache (OpContext.remoteCache). */
export interface RemoteCacheHooks {
  /** A step's result, hit or fresh: a candidate for export. */
  observe(record: CacheRecord): void;
  /** A local miss: a remote record, made local (blobs fetched, snapshot unpacked), or undefined. */
  lookup(ctx: OpContext, key: Digest): Promise<CacheRecord | undefined>;
}

export class RemoteCacheSession implements RemoteCacheHooks {
  readonly observed = new Map<Digest, CacheRecord>();
  private readonly imports: ImportedCache[] = [];
  /** One download per blob per build, however many steps need it at once. */
  private readonly fetches = new Map<Digest, Promise<void>>();

  observe(record: CacheRecord): void {
    this.observed.set(record.key, record);
  }

  /**
   * Reads each cache's manifest and config (no layers). A cache that is not there yet (a first run)
   * or cannot be read is a warning: the build goes on without it, as BuildKit's does.
   */
  async load(specs: CacheImportSpec[], store: ContentStore, opts: TransportOptions): Promise<void> {
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

  async lookup(ctx: OpContext, key: Digest): Promise<CacheRecord | undefined> {
    for (const imp of this.imports) {
      const rec = imp.index.records.get(key);
      if (!rec) continue;
      try {
        return await this.materialize(ctx, imp, rec);
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        ctx.progress.emit({
          type: "warning",
          code: "CacheImport",
          message: `cache ${imp.transport.name}: record ${key.slice(7, 19)}: ${(err as Error).message}; running the step`,
        });
      }
    }
    return undefined;
  }

  /**
   * A remote hit becomes a local one: the blobs of the record's chain that the store lacks are fetched
   * (only now, and only these), unpacked into `chain:` snapshots, and a local record is written.
   */
  private async materialize(ctx: OpContext, imp: ImportedCache, rec: RemoteRecord): Promise<CacheRecord> {
    const chain = imp.index.chainLayers(rec.chain);
    await Promise.all(chain.map(({ layer }) => this.fetch(ctx, imp, layer)));
    ctx.signal.throwIfAborted();
    if (chain.length > 0)
      await unpackLayers(
        ctx.snapshotter,
        ctx.store,
        chain.map((c) => c.layer),
        chain.map((c) => c.diffId),
      );
    const layer = rec.layerDigest ? imp.index.layers.get(rec.layerDigest) : undefined;
    const now = new Date().toISOString();
    const record: CacheRecord = {
      key: rec.key,
      snapshot: chainSnapshot(rec.chain),
      ...(layer && rec.diffId ? { layer, diffId: rec.diffId } : {}),
      created: rec.created,
      durationMs: rec.durationMs,
      lastUsed: now,
    };
    ctx.cache.put(record);
    return record;
  }

  private fetch(ctx: OpContext, imp: ImportedCache, layer: Descriptor): Promise<void> {
    if (ctx.store.has(layer.digest)) return Promise.resolve();
    let p = this.fetches.get(layer.digest);
    if (!p) {
      p = imp.transport.fetchBlob(layer, ctx.store);
      // A failed download may be tried again by a later step (or from another cache).
      p.catch(() => this.fetches.delete(layer.digest));
      this.fetches.set(layer.digest, p);
    }
    return p;
  }
}
