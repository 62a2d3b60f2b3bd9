import {
  constants,
  copyFileSync,
  chmodSync,
  lchownSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  readlinkSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
} from "node:fs";
import { BuildStepError } from "../../../src/errors.js";
import type { FileStat } from "../../../native/file-stat.js";
import { lstatIfExists } from "../../context/lstat-if-exists.js";
import type { Owner } from "../../context/chown.js";
import type { ModeMapper } from "../chmod.js";
import { showInRoot } from "./dest-path.js";

export interface EntryWriterOptions {
  /** Where paths are shown from in errors: the destination rootfs. */
  destRoot: string;
  /** --chown: every copied entry gets it. */
  owner?: Owner;
  /** Without --chown: keep the source's ids (a stage's rootfs) instead of root (the build context). */
  keepOwnership: boolean;
  /** --chmod. */
  mode?: ModeMapper;
}

interface DirTimes {
  path: string;
  atime: number;
  mtime: number;
}

/**
 * Writes copied entries one at a time with `cp -a` semantics: type, permission bits, owner, times,
 * symlinks as links, hardlinks among the copied files kept as hardlinks. Parents must be written before
 * their children; the writer never follows a symlink at a target path, it replaces it.
 */
export class EntryWriter {
  files = 0;
  bytes = 0;
  /** Source inode → first destination path, to turn further links to it into hardlinks. */
  private readonly firstCopyOfInode = new Map<string, string>();
  /** Directory times are set last: creating their children would change them again. */
  private readonly dirTimes: DirTimes[] = [];

  constructor(private readonly opts: EntryWriterOptions) {}

  write(srcAbs: string, st: FileStat, target: string): void {
    const existing = lstatIfExists(target);
    if (st.isDirectory()) {
      if (existing && !existing.isDirectory()) {
        throw new BuildStepError(
          `cannot copy a directory to ${this.show(target)}: it exists and is not a directory`,
        );
      }
      if (!existing) mkdirSync(target);
      this.setOwnerAndMode(target, st, true);
      this.dirTimes.push({ path: target, atime: st.atimeSeconds, mtime: st.mtimeSeconds });
      this.files++;
      return;
    }
    if (existing?.isDirectory()) {
      throw new BuildStepError(`cannot replace directory ${this.show(target)} with a non-directory`);
    }
    if (existing) unlinkSync(target);
    if (st.isFile()) this.writeFile(srcAbs, st, target);
    else if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(srcAbs), target);
      lchownSync(target, ...this.ids(st));
      lutimesSync(target, st.atimeSeconds, st.mtimeSeconds);
    } else {
      throw new BuildStepError(`cannot copy to ${this.show(target)}: ${srcAbs} is a fifo, socket or device`);
    }
    this.files++;
  }

  /** Sets the directories' times, deepest first. Call once after the last write. */
  finish(): void {
    for (const d of this.dirTimes.reverse()) utimesSync(d.path, d.atime, d.mtime);
    this.dirTimes.length = 0;
  }

  private writeFile(srcAbs: string, st: FileStat, target: string): void {
    const inode = st.inodeKey;
    if (st.nlink > 1) {
      const first = this.firstCopyOfInode.get(inode);
      if (first !== undefined) {
        linkSync(first, target);
        return;
      }
      this.firstCopyOfInode.set(inode, target);
    }
    // FICLONE shares extents where the filesystem can (btrfs, xfs) and silently copies elsewhere.
    copyFileSync(srcAbs, target, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    this.bytes += st.size;
    this.setOwnerAndMode(target, st, false);
    utimesSync(target, st.atimeSeconds, st.mtimeSeconds);
  }

  private setOwnerAndMode(target: string, st: FileStat, isDir: boolean): void {
    // Owner first: chown clears setuid/setgid bits that chmod must then set.
    lchownSync(target, ...this.ids(st));
    const perm = st.mode & 0o7777;
    chmodSync(target, this.opts.mode ? this.opts.mode(perm, isDir) : perm);
  }

  private ids(st: FileStat): [number, number] {
    if (this.opts.owner) return [this.opts.owner.uid, this.opts.owner.gid];
    return this.opts.keepOwnership ? [st.uid, st.gid] : [0, 0];
  }

  private show(target: string): string {
    return showInRoot(this.opts.destRoot, target);
  }
}
