// RUN --mount=type=bind: a directory (or file) of the build context, a named context, or another stage's
// rootfs, shown to the command read-only; with `rw` writable, but the writes go to a throwaway overlay
// upper and are discarded, as BuildKit does.
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { overlayMount, withMounts } from "../../../snapshotter/mount.js";
import type { Snapshotter } from "../../../snapshotter/types.js";
import { resolveInRoot } from "../../context/securejoin.js";

/** Mounts a snapshot of a stage (a view, or a throwaway active snapshot for rw) for the duration of fn. */
export async function withStageRoot<T>(
  snapshotter: Snapshotter,
  snapshot: string | undefined,
  writable: boolean,
  fn: (root: string) => Promise<T>,
): Promise<T> {
  if (!snapshot) {
    // An empty rootfs (FROM scratch with nothing added yet): an empty dir shows exactly that.
    const empty = mkdtempSync(join(tmpdir(), "tsbuild-empty-"));
    try {
      return await fn(empty);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }
  const key = `${writable ? "active" : "view"}/mount-${randomBytes(8).toString("hex")}`;
  const mounts = writable ? await snapshotter.prepare(key, snapshot) : await snapshotter.view(key, snapshot);
  try {
    return await withMounts(mounts, fn);
  } finally {
    await snapshotter.remove(key).catch(() => undefined);
  }
}

/** A host dir made writable for fn, its writes landing in a temp upper that is deleted afterwards. */
export async function withThrowawayWrites<T>(source: string, fn: (path: string) => Promise<T>): Promise<T> {
  const tmp = mkdtempSync(join(tmpdir(), "tsbuild-rwbind-"));
  try {
    if (!statSync(source).isDirectory()) {
      // overlayfs stacks directories only: a single file gets a private copy instead.
      const copy = join(tmp, "file");
      copyFileSync(source, copy);
      return await fn(copy);
    }
    mkdirSync(join(tmp, "upper"));
    mkdirSync(join(tmp, "work"));
    const overlay = overlayMount({
      lowerdirs: [source],
      upperdir: join(tmp, "upper"),
      workdir: join(tmp, "work"),
      options: ["volatile"],
    });
    return await withMounts([overlay], fn);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** `source` inside a context dir; symlinks resolve inside it and `..` may not leave it. */
export function contextPath(root: string, source: string | undefined, rootName: string): string {
  return resolveInRoot(root, source ?? "/", { onEscape: "error", rootName });
}

/** `source` inside a stage's rootfs, resolved as a chroot would. */
export function rootfsPath(root: string, source: string | undefined): string {
  return resolveInRoot(root, source ?? "/", { onEscape: "clamp" });
}
