import { createHash } from "node:crypto";
import { canonicalJson } from "../../src/oci/canonical-json.js";
import type { Compression, Digest } from "../../src/oci/types.js";
import type { XattrPolicy } from "../../snapshotter/layer/xattrs.js";

/**
 * What a step's result depends on besides its parent and its instruction: the build's settings that
 * change a layer's bytes or the history it writes. Every field is in every key, so that a record made
 * under one setting is never served under another (a zstd layer to a gzip build that Docker 20.10
 * cannot pull, unclamped times to a SOURCE_DATE_EPOCH build). docs/cache.md lists them and why.
 */
export interface KeyScope {
  /** The layer blob's compression: gzip, zstd or none (the record holds that blob). */
  compression: Compression;
  /** SOURCE_DATE_EPOCH: clamps the layer's file times and sets the history's `created`. */
  sourceDateEpoch?: number;
  /** The platform the step runs for and its layer is made for (os/arch[/variant]). */
  platform: string;
  /**
   * How the sandbox maps ids: "root" (the host's root is the image's root) or "rootless" (a user
   * namespace): the owners a RUN leaves can differ between them.
   */
  sandbox: "root" | "rootless";
  /** Which extended attributes layers record (`--layer-xattrs`): "capability" or "all". */
  xattrs: XattrPolicy;
}

/**
 * A step's cache key: sha256 over its parent's identity, the normalized instruction, its resolved inputs
 * and the build's key scope. The parent identity is the parent's *content* (the chain id of its
 * snapshot), not its key, so a step whose parent was rebuilt to identical bytes still hits.
 */
export function stepCacheKey(parts: {
  parent: string;
  op: string;
  inputs: Record<string, unknown>;
  scope: KeyScope;
}): Digest {
  const h = createHash("sha256");
  // v2: the key scope joined the key (v1 records, made without it, are never served again).
  h.update(`tsbuild-cache-v2\0${parts.parent}\0${parts.op}\0`);
  h.update(canonicalJson(parts.scope));
  h.update("\0");
  h.update(canonicalJson(parts.inputs));
  return `sha256:${h.digest("hex")}`;
}
