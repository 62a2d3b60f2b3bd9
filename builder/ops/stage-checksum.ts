// The cache input of a COPY --from=<stage>: a checksum of exactly the files it copies, not of the
// whole stage, so a stage that was rebuilt (new mtimes, or changes elsewhere in its tree) still lets
// the COPY hit when the copied files are the same.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalJson } from "../../src/oci/canonical-json.js";
import { sha256 } from "../../src/oci/digest.js";
import { writeFileAtomic } from "../../src/util/atomic.js";
import { withMounts } from "../../snapshotter/mount.js";
import { ContextHasher } from "../context/checksum.js";
import type { StageState } from "../state.js";
import type { OpContext } from "./op.js";

export interface StageSelection {
  patterns: string[];
  excludes: string[];
  followSymlinks: boolean;
}

/**
 * Memoized per (chain id, selection) under cache/stage-sums/: a committed snapshot never changes,
 * so the checksum is computed (through a read-only view) once per stage result, not once per build.
 */
export async function stageSourceChecksum(
  ctx: OpContext,
  state: StageState,
  sel: StageSelection,
): Promise<string> {
  const top = state.snapshot;
  if (!top) return state.identity;
  const memoKey = sha256(canonicalJson({ identity: state.identity, ...sel })).slice(7);
  const memoDir = join(ctx.root, "cache", "stage-sums");
  const known = readMemo(join(memoDir, memoKey));
  const sum = known ?? ctx.stageSums?.stageSum(memoKey) ?? (await computeChecksum(ctx, top, sel));
  ctx.stageSums?.observeStageSum(memoKey, sum);
  if (known === undefined) {
    mkdirSync(memoDir, { recursive: true });
    writeFileAtomic(join(memoDir, memoKey), `${sum}\n`);
  }
  return sum;
}

function readMemo(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined; // not computed yet
  }
}

async function computeChecksum(ctx: OpContext, top: string, sel: StageSelection): Promise<string> {
  const viewKey = `view/${randomBytes(8).toString("hex")}`;
  const mounts = await ctx.snapshotter.view(viewKey, top);
  let sum: string;
  try {
    sum = await withMounts(mounts, (root) =>
      new ContextHasher(root).checksumSources(sel.patterns, {
        excludes: sel.excludes,
        followSymlinks: sel.followSymlinks,
        sourceKind: "rootfs",
      }),
    );
  } finally {
    await ctx.snapshotter.remove(viewKey).catch(() => undefined);
  }
  return sum;
}
