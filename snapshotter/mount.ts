import { mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MNT_DETACH, mountFromSpec, umount } from "../native/index.js";
import type { Mount } from "./types.js";

/**
 * Mounts `mounts` at a fresh temp dir, runs `fn` with its path, and always unmounts and removes
 * the dir afterwards, whether `fn` succeeded or not.
 */
export async function withMounts<T>(mounts: Mount[], fn: (root: string) => Promise<T>): Promise<T> {
  const target = mkdtempSync(join(tmpdir(), "tsbuild-mnt-"));
  let mounted = 0;
  try {
    // mountFromSpec stacks the specs in order; count them to unmount exactly as many.
    for (const m of mounts) {
      mountFromSpec([m], target);
      mounted++;
    }
    return await fn(target);
  } finally {
    for (; mounted > 0; mounted--) {
      try {
        umount(target);
      } catch {
        // Still busy (an open file in fn's leftovers): detach now, the kernel frees it later.
        umount(target, MNT_DETACH);
      }
    }
    rmdirSync(target);
  }
}
