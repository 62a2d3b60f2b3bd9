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

/**
 * Which extended attributes a new layer records. "capability" (the default) records only
 * security.capability, as BuildKit's differs (containerd's and moby's archive packages) and buildah
 * do: the same Dockerfile then gives the same layer digest, and POSIX ACLs a postinst sets
 * (system.posix_acl_*) do not reach images that a Docker build would never give them. "all" records
 * every attribute but the denied ones (above).
 */
export type XattrPolicy = "capability" | "all";

export const CAPABILITY_XATTR = "security.capability";

/** The attributes of `all` that a layer carries under `policy`. */
export function layerXattrs(
  all: Map<string, Buffer>,
  policy: XattrPolicy = "capability",
): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (policy === "capability") {
    const cap = all.get(CAPABILITY_XATTR);
    if (cap) out.set(CAPABILITY_XATTR, cap);
    return out;
  }
  for (const [k, v] of all) if (!isDeniedXattr(k)) out.set(k, v);
  return out;
}
