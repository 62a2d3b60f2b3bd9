import { closeSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { open, rename } from "node:fs/promises";
import { dirname } from "node:path";
import { tempPathIn } from "./temp-files.js";

/** Flushes a directory entry change (a rename or create) to disk. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface AtomicWriteOptions {
  mode?: number;
  /** fsync the file and its directory (default): the write survives a power cut, not just a crash. */
  durable?: boolean;
  /** Fail with EEXIST if `path` exists, instead of replacing it (the file is linked into place). */
  exclusive?: boolean;
  /** Where the temp file goes (same filesystem as `path`); default: a `.tmp-` name beside it. */
  tmpPath?: string;
}

/**
 * Writes a small file so that readers see either the old or the new content, never a torn one,
 * even if the process dies or the machine loses power mid-write: temp file, fsync, rename, fsync dir.
 */
export function writeFileAtomic(path: string, data: string | Buffer, opts: AtomicWriteOptions = {}): void {
  const { mode = 0o644, durable = true, exclusive = false } = opts;
  const dir = dirname(path);
  const tmp = opts.tmpPath ?? tempPathIn(dir);
  const fd = openSync(tmp, "wx", mode);
  try {
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    if (durable) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  if (exclusive) {
    try {
      linkSync(tmp, path);
    } finally {
      unlinkSync(tmp);
    }
  } else {
    renameSync(tmp, path);
  }
  if (durable) fsyncDir(dir);
}

/**
 * writeFileAtomic on the thread pool: the same temp file, fsync, rename and directory fsync, while
 * the caller's thread goes on. For writes nothing waits for (a cache record); await it before exit.
 */
export async function writeFileAtomicAsync(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const dir = dirname(path);
  const tmp = tempPathIn(dir);
  const file = await open(tmp, "wx", mode);
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  const d = await open(dir, "r");
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
