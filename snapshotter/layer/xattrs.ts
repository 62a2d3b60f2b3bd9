import { lgetxattr, llistxattr } from "../../native/index.js";

/** All extended attributes of a path (not following symlinks). */
export function readXattrs(path: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of llistxattr(path)) {
    const value = lgetxattr(path, name);
    if (value !== null) out.set(name, value);
  }
  return out;
}

/**
 * Attributes that never go into a layer: overlayfs bookkeeping (opaque, redirect, origin, whiteout…)
 * would change how the image's own overlay mounts behave, and SELinux labels belong to the host.
 */
export function isDeniedXattr(name: string): boolean {
  return (
    name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.") || name === "security.selinux"
  );
}

/** The attributes of `all` that a layer may carry (security.capability, user.*, trusted.* …). */
export function layerXattrs(all: Map<string, Buffer>): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of all) if (!isDeniedXattr(k)) out.set(k, v);
  return out;
}
