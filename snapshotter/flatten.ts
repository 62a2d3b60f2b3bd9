// Chains deeper than one overlay mount takes. overlayfs stacks at most 500 lower directories
// (OVL_MAX_STACK); buildah stops at 128 layers ("max depth exceeded"), BuildKit at overlay's limit. An
// image keeps every layer; only the mount changes: the deepest layers are replaced by one
// *flattened lower*, a plain copy of their merged view (whiteouts and opaque dirs already applied),
// made once and kept in the id dir of the snapshot at its top. So it is keyed by that snapshot's
// chain (the snapshot name is its chain id), shared by every build and every deeper snapshot on it,
// read-only like any committed tree, and removed with that snapshot: no GC of its own.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TsbuildError } from "../src/errors.js";
import { sweepTemps, tempPathIn } from "../src/util/temp-files.js";
import { umount } from "../native/index.js";
import { OVERLAY_DEFAULTS, mountSpec, overlayMount } from "./mount.js";

/** The most lower directories one overlay mount takes (the kernel's OVL_MAX_STACK). */
export const MAX_LOWERS = 500;

/**
 * The deepest layers are flattened in multiples of this many: one flattened dir then serves the
 * next 256 steps of a growing chain (a 600-step Dockerfile makes one, not 100), and it is ≤ 500 so
 * that making a flattened dir never needs more than one level of an earlier one.
 */
export const FLATTEN_STEP = 256;

/** One committed snapshot of a chain: its fs dir (a lower) and its id dir (where its flat copy goes). */
export interface ChainEntry {
  fsDir: string;
  idDir: string;
}

/** How many of the deepest layers of an n-layer chain one flattened lower replaces (0: it fits). */
export function flattenedDepth(n: number): number {
  if (n <= MAX_LOWERS) return 0;
  return Math.ceil((n - (MAX_LOWERS - 1)) / FLATTEN_STEP) * FLATTEN_STEP;
}

/**
 * The lower dirs to mount for `chain` (nearest first): its fs dirs, or, past MAX_LOWERS, the nearest
 * ones and one flattened dir for the deepest flattenedDepth() layers (made now if it is missing).
 */
export function lowerDirsOf(chain: ChainEntry[]): string[] {
  const depth = flattenedDepth(chain.length);
  if (depth === 0) return chain.map((e) => e.fsDir);
  const nearest = chain.slice(0, chain.length - depth).map((e) => e.fsDir);
  return [...nearest, flattenedDir(chain.slice(chain.length - depth))];
}

/** The flattened copy of `chain` in its top snapshot's id dir, made (atomically) if missing. */
function flattenedDir(chain: ChainEntry[]): string {
  const top = chain[0]!;
  const dest = join(top.idDir, "flat");
  if (existsSync(dest)) return dest;
  // A process killed while copying left its temp copy here.
  sweepTemps(top.idDir);
  const tmp = tempPathIn(top.idDir);
  mkdirSync(tmp);
  try {
    copyMergedView(lowerDirsOf(chain), tmp);
    renameSync(tmp, dest);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    // Another process made it meanwhile: same content (same chain), use theirs.
    if (existsSync(dest)) return dest;
    throw err;
  }
  return dest;
}

/** Mounts `lowers` read-only and copies the merged tree into `dest` (owners, modes, times, xattrs, links). */
function copyMergedView(lowers: string[], dest: string): void {
  const target = mkdtempSync(join(tmpdir(), "tsbuild-flat-"));
  try {
    mountSpec(overlayMount({ lowerdirs: lowers, options: OVERLAY_DEFAULTS }), target);
    try {
      // GNU cp -a: hard links, devices, fifos, sockets, xattrs (security.capability) and the root
      // dir's own mode and owner, in C; what a tar round trip would do at several times the cost.
      const r = spawnSync("cp", ["-a", "--", `${target}/.`, dest], { encoding: "utf8" });
      if (r.status !== 0) {
        throw new TsbuildError(
          `flattening ${lowers.length} layers into ${dest}: cp: ${(r.stderr || r.error?.message || "").trim()}`,
        );
      }
    } finally {
      umount(target);
    }
  } finally {
    rmdirSync(target);
  }
}
