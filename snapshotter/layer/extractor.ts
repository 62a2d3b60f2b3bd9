import {
  constants,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  chmodSync,
  mkdirSync,
  rmSync,
  symlinkSync,
  type Stats,
} from "node:fs";
import { join } from "node:path";
import { TsbuildError } from "../../src/errors.js";
import { lsetxattr, mknod } from "../../native/index.js";
import { isDeniedXattr } from "./xattrs.js";
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from "./path-safety.js";
import type { TarEntry } from "./tar-reader.js";
import { writeEntryFile } from "./write-entry-file.js";

const OPAQUE_XATTR = "trusted.overlay.opaque";

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/**
 * Writes tar entries into a snapshot dir as overlayfs expects to find a layer: OCI whiteouts
 * become 0:0 character devices, `.wh..wh..opq` becomes trusted.overlay.opaque=y on the dir.
 * Nothing is ever written outside `root`: names with "..", absolute names, names whose parents
 * are symlinks and hard links to such names are refused.
 */
export class LayerExtractor {
  /** Dirs (relative) known to be real directories inside root: saves an lstat per entry. */
  private readonly dirs = new Set<string>([""]);
  private readonly dirTimes: [string, number][] = [];

  constructor(
    private readonly root: string,
    /** "layer sha256:…", to name the layer in errors. */
    private readonly label: string,
  ) {}

  private fail(name: string, why: string): never {
    throw new TsbuildError(`${this.label}: entry ${name} ${why}`);
  }

  /** Normalizes an archive path to a relative one ("" is the root), refusing escapes. */
  private resolve(name: string, path = name): string {
    const what = path === name ? "" : ` (hard link to ${path})`;
    if (path.startsWith("/")) this.fail(name, `escapes the root${what || " (absolute path)"}`);
    const parts = path.split("/").filter((p) => p !== "" && p !== ".");
    if (parts.includes("..")) this.fail(name, `escapes the root${what}`);
    return parts.join("/");
  }

  /** Makes sure every ancestor of `rel` is a real directory inside root, creating missing ones. */
  private ensureParents(name: string, rel: string): void {
    const parts = rel.split("/");
    let cur = "";
    for (let i = 0; i < parts.length - 1; i++) {
      cur = cur === "" ? parts[i]! : `${cur}/${parts[i]}`;
      if (this.dirs.has(cur)) continue;
      const abs = join(this.root, cur);
      const st = lstatOrNull(abs);
      if (st === null) mkdirSync(abs, 0o755);
      else if (st.isSymbolicLink()) this.fail(name, `escapes the root (through symlink ${cur})`);
      else if (!st.isDirectory()) this.fail(name, `has a parent ${cur} that is not a directory`);
      this.dirs.add(cur);
    }
  }

  private forgetDirs(rel: string): void {
    for (const d of this.dirs) if (d === rel || d.startsWith(`${rel}/`)) this.dirs.delete(d);
  }

  async add(e: TarEntry): Promise<void> {
    const rel = this.resolve(e.name);
    const slash = rel.lastIndexOf("/");
    const base = rel.slice(slash + 1);
    if (base.startsWith(WHITEOUT_PREFIX))
      return this.whiteout(e.name, rel, slash === -1 ? "" : rel.slice(0, slash), base);
    if (rel === "") {
      if (e.type !== "directory") this.fail(e.name, "replaces the root with a non-directory");
      this.metadata(this.root, e);
      return;
    }
    this.ensureParents(e.name, rel);
    const abs = join(this.root, rel);
    const existing = lstatOrNull(abs);
    if (existing && !(existing.isDirectory() && e.type === "directory")) {
      rmSync(abs, { recursive: true, force: true });
      this.forgetDirs(rel);
    }
    switch (e.type) {
      case "file":
        return this.file(abs, e);
      case "directory":
        if (!existing?.isDirectory()) mkdirSync(abs, 0o700);
        this.dirs.add(rel);
        return this.metadata(abs, e);
      case "symlink":
        symlinkSync(e.linkname, abs);
        return this.metadata(abs, e);
      case "link":
        return this.hardlink(e, abs);
      case "char":
      case "block":
      case "fifo": {
        const kind =
          e.type === "char" ? constants.S_IFCHR : e.type === "block" ? constants.S_IFBLK : constants.S_IFIFO;
        mknod(abs, kind | (e.mode & 0o7777), e.devmajor, e.devminor);
        return this.metadata(abs, e);
      }
    }
  }

  private whiteout(name: string, rel: string, dir: string, base: string): void {
    if (base === WHITEOUT_PREFIX) this.fail(name, "is a whiteout without a name");
    this.ensureParents(name, rel);
    const dirAbs = join(this.root, dir);
    if (base === OPAQUE_MARKER) {
      // ensureParents made sure the dir exists. Order does not matter here: the xattr hides only the lower layers, never this layer's entries.
      lsetxattr(dirAbs, OPAQUE_XATTR, "y");
      return;
    }
    if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return; // AUFS bookkeeping: skip
    const target = base.slice(WHITEOUT_PREFIX.length);
    if (target === "." || target === "..") this.fail(name, "escapes its directory");
    const abs = join(dirAbs, target);
    // A whiteout never hides what the same layer adds.
    if (lstatOrNull(abs) !== null) return;
    mknod(abs, constants.S_IFCHR, 0, 0);
  }

  private async file(abs: string, e: TarEntry): Promise<void> {
    await writeEntryFile(abs, e, e.uid, e.gid, (fd) => {
      this.xattrs(abs, e);
      futimesSync(fd, e.mtime, e.mtime);
    });
  }

  private hardlink(e: TarEntry, abs: string): void {
    const target = this.resolve(e.name, e.linkname);
    if (target === "") this.fail(e.name, `is a hard link to the root`);
    this.ensureParents(e.name, target);
    const targetAbs = join(this.root, target);
    const st = lstatOrNull(targetAbs);
    if (st === null || st.isDirectory()) {
      this.fail(e.name, `is a hard link to ${e.linkname}, which is not a file of this layer`);
    }
    linkSync(targetAbs, abs);
  }

  private metadata(abs: string, e: TarEntry): void {
    lchownSync(abs, e.uid, e.gid);
    if (e.type !== "symlink") chmodSync(abs, e.mode & 0o7777);
    this.xattrs(abs, e);
    // A dir's mtime changes with every entry written into it: set dir times last.
    if (e.type === "directory") this.dirTimes.push([abs, e.mtime]);
    else lutimesSync(abs, e.mtime, e.mtime);
  }

  private xattrs(abs: string, e: TarEntry): void {
    // A layer must not smuggle in overlay markers (opaque, redirect…) other than through whiteouts.
    for (const [k, v] of e.xattrs) if (!isDeniedXattr(k)) lsetxattr(abs, k, v);
  }

  /** Sets directory times, once all their entries are written. */
  finish(): void {
    for (let i = this.dirTimes.length - 1; i >= 0; i--) {
      const [abs, mtime] = this.dirTimes[i]!;
      lutimesSync(abs, mtime, mtime);
    }
  }
}
