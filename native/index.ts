// Typed bindings for the native addon: xattrs on links, mknod and mounts, which Node's fs lacks.
// Errors are thrown like Node's fs throws them: code ("ENOENT"), errno (negative), syscall, path.
import { createRequire } from "node:module";
import { addonPath } from "./paths.js";

export { nativeBuildDir } from "./paths.js";

interface MountFlags {
  RDONLY: number;
  BIND: number;
  REC: number;
  PRIVATE: number;
  SLAVE: number;
  NOSUID: number;
  NODEV: number;
  NOEXEC: number;
  REMOUNT: number;
}

interface Addon {
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  lsetxattr(path: string, name: string, value: Buffer | string): void;
  lremovexattr(path: string, name: string): void;
  mknod(path: string, mode: number, major: number, minor: number): void;
  mountOverlay(
    target: string,
    lowerdirs: string[],
    upperdir: string | undefined,
    workdir: string | undefined,
    options: string[] | undefined,
  ): void;
  mount(source: string, target: string, fstype: string, flags: number, data?: string): void;
  umount(target: string, flags?: number): void;
  lstatDir(dir: string): [names: string[], fields: Float64Array];
  flock(fd: number, op: 0 | 1): boolean;
  sweepCgroups(): number;
  MS: MountFlags;
  MNT_DETACH: number;
}

// Loaded on first use, not at import: the CLI's start-up snapshot (cli/main.ts) evaluates
// this module while it is built, and a loaded addon's handles cannot be serialized into it.
let loaded: Addon | undefined;
function addonModule(): Addon {
  return (loaded ??= createRequire(import.meta.url)(addonPath()) as Addon);
}
const addon: Addon = new Proxy({} as Addon, { get: (_, name) => addonModule()[name as keyof Addon] });

/** The attribute's value, or null when the file has no such attribute (ENODATA). Does not follow symlinks. */
export function lgetxattr(path: string, name: string): Buffer | null {
  return addon.lgetxattr(path, name);
}

/** Names of all extended attributes of path (not following symlinks). */
export function llistxattr(path: string): string[] {
  return addon.llistxattr(path);
}

export function lsetxattr(path: string, name: string, value: Buffer | string): void {
  addon.lsetxattr(path, name, value);
}

export function lremovexattr(path: string, name: string): void {
  addon.lremovexattr(path, name);
}

/**
 * Takes the exclusive flock(2) of an open file without waiting: false when another open file holds it.
 * The kernel drops it when the holder's descriptor closes, a killed process's included.
 */
export function tryLockExclusive(fd: number): boolean {
  return addon.flock(fd, 1);
}

export function unlock(fd: number): void {
  addon.flock(fd, 0);
}

/** mode includes the file type (fs.constants.S_IFCHR, ...) and permission bits. */
export function mknod(path: string, mode: number, major: number, minor: number): void {
  addon.mknod(path, mode, major, minor);
}

export interface OverlayOptions {
  /** Nearest (topmost) first. */
  lowerdirs: string[];
  /** Without an upperdir the overlay is read-only. */
  upperdir?: string;
  workdir?: string;
  /** Extra overlay options ("volatile", "ro", "index=on" ...); index, redirect_dir and metacopy default to off. */
  options?: string[];
}

/** Mounts an overlay at target with the new mount API (one fsconfig per lowerdir: no length limit). */
export function mountOverlay(target: string, o: OverlayOptions): void {
  addon.mountOverlay(target, o.lowerdirs, o.upperdir, o.workdir, o.options);
}

export function mount(source: string, target: string, fstype: string, flags: number, data?: string): void {
  addon.mount(source, target, fstype, flags, data);
}

export function umount(target: string, flags = 0): void {
  addon.umount(target, flags);
}

/**
 * The lstat values lstatDir returns per entry, in this order (native/src/addon.c fills them). 64-bit
 * dev, ino and rdev come as 32-bit halves, so every value is exact in a double.
 */
export const LSTAT_FIELDS = [
  "mode",
  "uid",
  "gid",
  "nlink",
  "size",
  "devHi",
  "devLo",
  "inoHi",
  "inoLo",
  "rdevHi",
  "rdevLo",
  "atimeSec",
  "atimeNsec",
  "mtimeSec",
  "mtimeNsec",
  "ctimeSec",
  "ctimeNsec",
] as const;
export type LstatField = (typeof LSTAT_FIELDS)[number];

/**
 * A directory's entries (no "." or "..") in readdir order, each lstat'ed, in one call: `fields` holds
 * LSTAT_FIELDS.length values per entry. An entry removed between the listing and its lstat is left out.
 */
export function lstatDir(dir: string): { names: string[]; fields: Float64Array } {
  const [names, fields] = addon.lstatDir(dir);
  return { names, fields };
}

/** The mount(2) flags, read from the addon (the kernel's headers) on first use. */
export const MS: MountFlags = new Proxy({} as MountFlags, {
  get: (_, flag) => addonModule().MS[flag as keyof MountFlags],
});
/** umount2(2)'s MNT_DETACH: part of the Linux ABI, the same on every architecture. */
export const MNT_DETACH = 2;

/**
 * Removes the RUN cgroups whose owning launcher is gone (a build killed with SIGKILL), under this
 * process's cgroup and the hierarchy roots' (native/src/cgroup_fs.h). Returns how many it removed.
 */
export function sweepCgroups(): number {
  return addon.sweepCgroups();
}
