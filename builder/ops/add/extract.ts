// Extracts a tar archive into a directory of a mounted rootfs for ADD. Every path goes through
// resolveInRoot (symlinks resolve inside the rootfs, as in moby's chroot untar) and entries whose names
// climb above the destination ("../x", hard links to "../x") are refused.
import {
  chmodSync,
  constants,
  lchownSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { dirname, posix, relative, sep } from "node:path";
import { mknod } from "../../../native/index.js";
import { BuildStepError } from "../../../src/errors.js";
import { readTar, type TarEntry } from "../../../snapshotter/layer/tar-reader.js";
import { writeEntryFile } from "../../../snapshotter/layer/write-entry-file.js";
import type { Owner } from "../../context/chown.js";
import { lstatIfExists } from "../../context/lstat-if-exists.js";
import { resolveInRoot } from "../../context/securejoin.js";
import { mkdirInRoot } from "../copy/dest-path.js";
import { type ArchiveCompression, decompressedStream } from "./archive-format.js";

export interface ExtractOptions {
  archive: string;
  /** For errors: the source as the Dockerfile names it. */
  label: string;
  compression: ArchiveCompression;
  /** The mounted rootfs and the destination dir inside it (a host path below rootfs). */
  rootfs: string;
  destAbs: string;
  /** --chown: overrides the owners the archive records. */
  owner?: Owner;
}

export async function extractArchive(o: ExtractOptions): Promise<number> {
  const destInImage = `/${relative(o.rootfs, o.destAbs).split(sep).join("/")}`;
  mkdirInRoot(o.rootfs, o.destAbs, o.owner);
  const dirTimes: [string, number][] = [];
  let count = 0;
  const place = (name: string, what = name): string => {
    const rel = posix.normalize(name.replace(/^\/+/, ""));
    if (rel === ".." || rel.startsWith("../")) {
      throw new BuildStepError(
        `ADD ${o.label}: archive entry ${what} escapes the destination ${destInImage}`,
      );
    }
    return resolveInRoot(o.rootfs, posix.join(destInImage, rel), { followFinal: false });
  };
  try {
    for await (const e of readTar(decompressedStream(o.archive, o.compression))) {
      const abs = place(e.name);
      if (abs === o.destAbs && e.type === "directory") continue; // "./": the destination itself
      mkdirInRoot(o.rootfs, dirname(abs), o.owner);
      await writeEntry(e, abs, o, place);
      if (e.type === "directory") dirTimes.push([abs, e.mtime]);
      count++;
    }
  } catch (err) {
    if (err instanceof BuildStepError) throw err;
    throw new BuildStepError(`ADD ${o.label}: cannot extract: ${(err as Error).message}`);
  }
  // A dir's mtime changes with every entry written into it: set dir times last, deepest first.
  for (const [abs, mtime] of dirTimes.reverse()) lutimesSync(abs, mtime, mtime);
  return count;
}

async function writeEntry(
  e: TarEntry,
  abs: string,
  o: ExtractOptions,
  place: (n: string, w?: string) => string,
) {
  const existing = lstatIfExists(abs);
  if (existing && !(existing.isDirectory() && e.type === "directory"))
    rmSync(abs, { recursive: true, force: true });
  const uid = o.owner?.uid ?? e.uid;
  const gid = o.owner?.gid ?? e.gid;
  switch (e.type) {
    case "directory":
      if (!existing?.isDirectory()) mkdirSync(abs);
      lchownSync(abs, uid, gid);
      chmodSync(abs, e.mode & 0o7777);
      return;
    case "file":
      await writeEntryFile(abs, e, uid, gid);
      break;
    case "symlink":
      symlinkSync(e.linkname, abs);
      lchownSync(abs, uid, gid);
      break;
    case "link": {
      const target = place(e.linkname, `${e.name} (hard link to ${e.linkname})`);
      linkSync(target, abs);
      return;
    }
    default: {
      const kind =
        e.type === "char" ? constants.S_IFCHR : e.type === "block" ? constants.S_IFBLK : constants.S_IFIFO;
      mknod(abs, kind | (e.mode & 0o7777), e.devmajor, e.devminor);
      lchownSync(abs, uid, gid);
      chmodSync(abs, e.mode & 0o7777);
    }
  }
  lutimesSync(abs, e.mtime, e.mtime);
}
