// `--cache-to`: the records this build used or made (mode=min: those on the target's layer chain;
// mode=max: every step of the build), the chain links that rebuild their rootfs, and the layer blobs.
import { TsbuildError } from "../../../src/errors.js";
import { canonicalJson } from "../../../src/oci/canonical-json.js";
import type { Descriptor } from "../../../src/oci/types.js";
import type { ProgressSink } from "../../../src/progress/events.js";
import type { ContentStore } from "../../../src/store/types.js";
import { SCRATCH, chainOfSnapshot, childChain } from "../../../snapshotter/chain.js";
import type { StageState } from "../../state.js";
import {
  CACHE_CONFIG_MEDIA_TYPE,
  type ChainLink,
  type RemoteCacheConfig,
  type RemoteRecord,
} from "./format.js";
import type { RemoteCacheSession } from "./session.js";
import type { CacheExportSpec } from "./spec.js";
import { cacheManifest, openTransport } from "./transport.js";

export interface ExportInput {
  store: ContentStore;
  session: RemoteCacheSession;
  /** The target's final state (mode=min), or every built stage's (mode=max). */
  states: StageState[];
  progress: ProgressSink;
  signal?: AbortSignal;
  insecureRegistries?: string[];
}

export interface ExportResult {
  records: number;
  layers: number;
  /** Blobs the destination did not have yet. */
  written: number;
}

/** Builds the cache config from the states' layer chains and the observed records. */
export function cacheConfig(
  store: ContentStore,
  states: StageState[],
  records: Iterable<{
    key: string;
    snapshot?: string;
    layer?: Descriptor;
    diffId?: string;
    created: string;
    durationMs: number;
  }>,
  stageSums: Map<string, string> = new Map(),
): { config: RemoteCacheConfig; layers: Descriptor[] } {
  const links = new Map<string, ChainLink>();
  const layers = new Map<string, Descriptor>();
  for (const s of states) {
    let parent = SCRATCH;
    for (const [i, layer] of s.layers.entries()) {
      const diffId = s.config.rootfs.diff_ids[i];
      if (!diffId) throw new TsbuildError(`cache export: layer ${layer.digest} has no diff id`);
      const chain = childChain(parent, diffId);
      // A base layer whose blob is not here (never the case for what this build made) ends the chain.
      if (!store.has(layer.digest)) break;
      links.set(chain, { chain, parentChain: parent, layerDigest: layer.digest, diffId });
      layers.set(layer.digest, stripAnnotations(layer));
      parent = chain;
    }
  }
  const out: RemoteRecord[] = [];
  for (const r of records) {
    const chain = chainOfSnapshot(r.snapshot);
    if (chain === undefined || (chain !== SCRATCH && !links.has(chain))) continue;
    // Same content, other compression: the record keeps its own blob (the link's rebuilds the rootfs).
    if (r.layer && store.has(r.layer.digest)) layers.set(r.layer.digest, stripAnnotations(r.layer));
    else if (r.layer) continue;
    out.push({
      key: r.key,
      chain,
      parentChain: r.layer ? links.get(chain)?.parentChain : chain,
      ...(r.layer && r.diffId ? { layerDigest: r.layer.digest, diffId: r.diffId } : {}),
      created: r.created,
      durationMs: r.durationMs,
    });
  }
  out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const sortedLinks = [...links.values()].sort((a, b) => (a.chain < b.chain ? -1 : 1));
  const sums = Object.fromEntries([...stageSums].sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    config: { version: 1, records: out, links: sortedLinks, ...(stageSums.size ? { stageSums: sums } : {}) },
    layers: [...layers.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1)),
  };
}

function stripAnnotations(d: Descriptor): Descriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}

export async function exportCache(spec: CacheExportSpec, input: ExportInput): Promise<ExportResult> {
  const { config, layers } = cacheConfig(
    input.store,
    input.states,
    input.session.observed.values(),
    input.session.stageSums,
  );
  const configBytes = Buffer.from(canonicalJson(config));
  const written = await input.store.writeBlob(configBytes);
  const configDesc: Descriptor = {
    mediaType: CACHE_CONFIG_MEDIA_TYPE,
    digest: written.digest,
    size: written.size,
  };
  const manifest = cacheManifest(configDesc, layers);
  const transport = openTransport(spec, input);
  input.progress.emit({
    type: "info",
    message: `exporting cache to ${transport.name} (mode=${spec.mode}): ${config.records.length} records, ${layers.length} layers`,
  });
  const n = await transport.save(input.store, manifest, [configDesc, ...layers]);
  return { records: config.records.length, layers: layers.length, written: n };
}
