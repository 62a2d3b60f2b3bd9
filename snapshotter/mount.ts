// The snapshotter's mounts and everything that reads them: the one encoder and decoder of overlay mount
// options, mounting them (withMounts), and the host dirs a differ or an applier works on, derived from
// the mounts as BuildKit's util/overlay does, so the Snapshotter interface needs to hand out nothing else.
import { accessSync, constants, mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MNT_DETACH, MS, mount, mountOverlay, type OverlayOptions, umount } from "../native/index.js";
import { TsbuildError } from "../src/errors.js";
import type { Mount } from "./types.js";

/** A plain upper-dir scan is only correct with these off (the differ reads the upper as a layer). */
export const OVERLAY_DEFAULTS = ["index=off", "redirect_dir=off", "metacopy=off"];

/** overlayfs separates lowerdirs with ':' and takes '\' as an escape. */
function escapeLowerdir(dir: string): string {
  return dir.replace(/[\\:]/g, (c) => `\\${c}`);
}

/** Splits a lowerdir= value at unescaped ':'. */
function splitLowerdirs(value: string): string[] {
  const dirs: string[] = [];
  let cur = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\" && i + 1 < value.length) cur += value[++i];
    else if (c === ":") {
      dirs.push(cur);
      cur = "";
    } else cur += c;
  }
  dirs.push(cur);
  return dirs.filter((d) => d !== "");
}

/** An overlay mount spec: lowerdirs nearest first; without an upperdir it is read-only. */
export function overlayMount(o: OverlayOptions): Mount {
  const options = [...(o.options ?? []), `lowerdir=${o.lowerdirs.map(escapeLowerdir).join(":")}`];
  if (o.upperdir !== undefined) options.push(`upperdir=${o.upperdir}`);
  if (o.workdir !== undefined) options.push(`workdir=${o.workdir}`);
  return { type: "overlay", source: "overlay", options };
}

/** The overlay options of a spec that overlayMount (or anyone writing overlayfs's syntax) made. */
export function parseOverlayMount(m: Mount): OverlayOptions {
  const o: OverlayOptions = { lowerdirs: [], options: [] };
  for (const opt of m.options) {
    const eq = opt.indexOf("=");
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = opt.slice(eq + 1);
    if (key === "lowerdir") o.lowerdirs = splitLowerdirs(value);
    else if (key === "upperdir") o.upperdir = value;
    else if (key === "workdir") o.workdir = value;
    else o.options!.push(opt);
  }
  return o;
}

/** The host dirs behind a snapshot's mounts: its own writable dir (if any) and the read-only ones below. */
export interface SnapshotDirs {
  /** The active snapshot's own tree: the overlay upperdir, or the source of a writable bind. */
  upper?: string;
  /** Committed dirs below it, nearest first. */
  lowers: string[];
}

/** Reads the dirs out of a snapshotter's mounts (one overlay or one bind, as every snapshotter here gives). */
export function snapshotDirs(mounts: Mount[]): SnapshotDirs {
  const m = mounts[0];
  if (!m || mounts.length !== 1) throw new TsbuildError(`expected one mount, got ${mounts.length}`);
  if (m.type === "overlay") {
    const o = parseOverlayMount(m);
    return { upper: o.upperdir, lowers: o.lowerdirs };
  }
  if (m.type === "bind") {
    return m.options.includes("ro") ? { lowers: [m.source] } : { upper: m.source, lowers: [] };
  }
  throw new TsbuildError(`mount type ${m.type}: not a snapshot mount`);
}

/** The upper dir of an active snapshot's mounts; throws for a read-only view. */
export function upperDirOf(mounts: Mount[]): string {
  const { upper } = snapshotDirs(mounts);
  if (upper === undefined) throw new TsbuildError("a read-only snapshot has no upper dir");
  return upper;
}

function mountBind(m: Mount, target: string): void {
  const recursive = !m.options.includes("bind");
  const flags = MS.BIND | (recursive ? MS.REC : 0);
  mount(m.source, target, "", flags);
  // A bind mount ignores MS_RDONLY at creation: read-only takes a remount of the new mount.
  if (m.options.includes("ro")) mount("", target, "", flags | MS.REMOUNT | MS.RDONLY);
}

/**
 * overlayfs that cannot make its work dir (a full disk) mounts read-only with only a kernel log line,
 * and the step then failed with EROFS on its first write, far from the cause. One access(2) after
 * the mount turns that into an error that says what happened.
 */
function mountWritableOverlay(target: string, o: OverlayOptions): void {
  mountOverlay(target, o);
  if (o.upperdir === undefined) return;
  try {
    accessSync(target, constants.W_OK);
  } catch (err) {
    umount(target);
    const e: NodeJS.ErrnoException = new TsbuildError(
      `snapshot ${o.upperdir}: overlay came up read-only (its filesystem refused the work dir: full?)`,
      { cause: err },
    );
    e.code = (err as NodeJS.ErrnoException).code;
    throw e;
  }
}

/**
 * Mounts one spec at target. overlay: lowerdir= (escaped, ':'-separated), upperdir=, workdir= and
 * extra options; bind: "rbind" (default) or "bind", and "ro" | "rw"; anything else is a filesystem type.
 */
export function mountSpec(m: Mount, target: string): void {
  if (m.type === "overlay") mountWritableOverlay(target, parseOverlayMount(m));
  else if (m.type === "bind") mountBind(m, target);
  else mount(m.source, target, m.type, 0, m.options.join(",") || undefined);
}

/**
 * Mounts `mounts` at a fresh temp dir, runs `fn` with its path, and always unmounts and removes
 * the dir afterwards, whether `fn` succeeded or not.
 */
export async function withMounts<T>(mounts: Mount[], fn: (root: string) => Promise<T>): Promise<T> {
  const target = mkdtempSync(join(tmpdir(), "tsbuild-mnt-"));
  let mounted = 0;
  try {
    // The specs stack in order; count them to unmount exactly as many.
    for (const m of mounts) {
      mountSpec(m, target);
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
