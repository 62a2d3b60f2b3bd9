// The remote cache format: an OCI image manifest whose layers are the exported layer blobs and whose
// config blob lists the cache records plus the chain links needed to rebuild any record's rootfs.
import { TsbuildError } from "../../../src/errors.js";
import type { Descriptor, Digest } from "../../../src/oci/types.js";
import { SCRATCH, childChain } from "../../../snapshotter/chain.js";

export const CACHE_CONFIG_MEDIA_TYPE = "application/vnd.tsbuild.cache.config.v1+json";

/** One cached step. `chain` is the rootfs chain id after the step ("scratch" for an empty rootfs). */
export interface RemoteRecord {
  key: Digest;
  chain: string;
  /** The rootfs the step ran on; equal to `chain` when the step made no layer. */
  parentChain?: string;
  layerDigest?: Digest;
  diffId?: Digest;
  created: string;
  durationMs: number;
}

/** One layer on top of `parentChain` ("scratch" for the bottom one) giving `chain`. */
export interface ChainLink {
  chain: string;
  parentChain: string;
  layerDigest: Digest;
  diffId: Digest;
}

export interface RemoteCacheConfig {
  version: 1;
  records: RemoteRecord[];
  links: ChainLink[];
  /** COPY --from checksums by memo key (builder/ops/stage-checksum.ts): older caches have none. */
  stageSums?: Record<string, string>;
}

/** An imported cache, indexed for lookups. */
export class CacheIndex {
  readonly records = new Map<Digest, RemoteRecord>();
  readonly links = new Map<string, ChainLink>();
  readonly layers = new Map<Digest, Descriptor>();
  readonly stageSums = new Map<string, string>();

  constructor(config: RemoteCacheConfig, layers: Descriptor[]) {
    if (config.version !== 1 || !Array.isArray(config.records) || !Array.isArray(config.links))
      throw new TsbuildError(`unsupported cache config (version ${String(config.version)})`);
    for (const l of layers) this.layers.set(l.digest, l);
    for (const l of config.links) this.links.set(l.chain, l);
    for (const r of config.records) this.records.set(r.key, r);
    for (const [k, v] of Object.entries(config.stageSums ?? {}))
      if (typeof v === "string") this.stageSums.set(k, v);
  }

  /** The layers (bottom first) that make `chain`; throws if the cache lacks a link or a blob. */
  chainLayers(chain: string): { layer: Descriptor; diffId: Digest }[] {
    const out: { layer: Descriptor; diffId: Digest }[] = [];
    for (let c = chain; c !== SCRATCH;) {
      const link = this.links.get(c);
      if (!link) throw new TsbuildError(`chain ${c}: no layer for it in the cache`);
      const layer = this.layers.get(link.layerDigest);
      if (!layer) throw new TsbuildError(`layer ${link.layerDigest}: listed but not in the cache manifest`);
      if (childChain(link.parentChain, link.diffId) !== c)
        throw new TsbuildError(`chain ${c}: its link does not hash to it`);
      out.push({ layer, diffId: link.diffId });
      c = link.parentChain;
      if (out.length > 10_000) throw new TsbuildError(`chain ${chain}: loops`);
    }
    return out.reverse();
  }
}
