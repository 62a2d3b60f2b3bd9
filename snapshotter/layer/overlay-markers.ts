import { lstatSync, type Stats } from "node:fs";
import { join } from "node:path";
import { lgetxattr } from "../../native/index.js";

// How overlayfs records deletions and replaced directories in an upper (or extracted layer) dir.

export const OPAQUE_XATTRS = ["trusted.overlay.opaque", "user.overlay.opaque"];
export const WHITEOUT_XATTRS = ["trusted.overlay.whiteout", "user.overlay.whiteout"];
export const REDIRECT_XATTRS = ["trusted.overlay.redirect", "user.overlay.redirect"];

/** A 0:0 character device, or (newer kernels) an empty file marked with an overlay whiteout xattr. */
export function isWhiteout(st: Stats, path: string, xattrs?: Map<string, Buffer>): boolean {
  if (st.isCharacterDevice()) return st.rdev === 0;
  if (!st.isFile() || st.size !== 0) return false;
  return WHITEOUT_XATTRS.some((k) => (xattrs ? xattrs.has(k) : lgetxattr(path, k) !== null));
}

/** Only "y" means opaque; newer kernels also write "x" (the dir merely holds xattr whiteouts). */
export function isOpaqueDir(path: string, xattrs?: Map<string, Buffer>): boolean {
  return OPAQUE_XATTRS.some((k) => (xattrs ? xattrs.get(k) : lgetxattr(path, k))?.toString() === "y");
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw err;
  }
}

/**
 * Whether `rel` exists in the merged view of the overlay lower dirs (nearest first), honouring
 * their own whiteouts and opaque dirs the way overlayfs would.
 */
export function existsInLowers(lowerDirs: string[], rel: string): boolean {
  const parts = rel.split("/");
  for (const lower of lowerDirs) {
    let path = lower;
    let hidesBelow = false;
    for (const [i, part] of parts.entries()) {
      path = join(path, part);
      const st = lstatOrNull(path);
      if (st === null) break;
      if (isWhiteout(st, path)) return false;
      if (i === parts.length - 1) return true;
      // A non-directory here hides whatever lower layers have beneath this name.
      if (!st.isDirectory()) return false;
      if (isOpaqueDir(path)) hidesBelow = true;
    }
    if (hidesBelow) return false;
  }
  return false;
}
