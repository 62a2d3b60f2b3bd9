import { createHash } from "node:crypto";
import { canonicalJson } from "../../src/oci/canonical-json.js";
import type { Digest } from "../../src/oci/types.js";

/**
 * A step's cache key: sha256 over its parent's identity, the normalized instruction and its resolved inputs.
 * The parent identity is the parent's *content* (the chain id of its snapshot), not its key, so a step
 * whose parent was rebuilt to identical bytes still hits.
 */
export function stepCacheKey(parts: { parent: string; op: string; inputs: Record<string, unknown> }): Digest {
  const h = createHash("sha256");
  h.update(`tsbuild-cache-v1\0${parts.parent}\0${parts.op}\0`);
  h.update(canonicalJson(parts.inputs));
  return `sha256:${h.digest("hex")}`;
}
