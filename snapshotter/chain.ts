// How rootfs content is named. A rootfs is identified by the OCI chain id of its layers (chain(0) =
// diff(0); chain(n) = sha256(chain(n-1) + " " + diff(n))), or "scratch" when it has none, and the
// committed snapshot holding a chain is named `chain:<chain id>`. Naming snapshots by content means a
// layer is unpacked at most once, and a built layer is reused by anything with the same chain,
// whatever Dockerfile produced it. Every module that names, parses or extends a chain uses these.
import { sha256 } from "../src/oci/digest.js";
import type { Digest } from "../src/oci/types.js";

/** The identity of an empty rootfs (FROM scratch, nothing added yet). */
export const SCRATCH = "scratch";

const PREFIX = "chain:";

/** The chain id of a layer `diffId` on top of the rootfs `parent` (a chain id, or SCRATCH). */
export function childChain(parent: string, diffId: Digest): string {
  return parent === SCRATCH ? diffId : sha256(`${parent} ${diffId}`);
}

/** The chain id of every prefix of `diffIds`, bottom first (the OCI definition). */
export function chainIds(diffIds: Digest[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(childChain(out.at(-1) ?? SCRATCH, d));
  return out;
}

/** The rootfs identity of a stack of layers: its top chain id, or SCRATCH for none. */
export function topChain(diffIds: Digest[]): string {
  return chainIds(diffIds).at(-1) ?? SCRATCH;
}

/** The committed snapshot name of the chain `chainId` (never SCRATCH: an empty rootfs has no snapshot). */
export function chainSnapshotName(chainId: string): string {
  return `${PREFIX}${chainId}`;
}

/** The snapshot of a rootfs identity: undefined for SCRATCH, whose rootfs is empty. */
export function snapshotOfChain(chain: string): string | undefined {
  return chain === SCRATCH ? undefined : chainSnapshotName(chain);
}

/**
 * The rootfs identity a snapshot name stands for: SCRATCH for no snapshot, the chain id of a
 * `chain:` name, undefined for any other (an active snapshot or a view).
 */
export function chainOfSnapshot(snapshot: string | undefined): string | undefined {
  if (snapshot === undefined) return SCRATCH;
  return snapshot.startsWith(PREFIX) ? snapshot.slice(PREFIX.length) : undefined;
}
