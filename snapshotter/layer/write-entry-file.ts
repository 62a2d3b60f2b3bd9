import { closeSync, constants, fchmodSync, fchownSync, openSync, writeSync } from "node:fs";
import type { TarEntry } from "./tar-reader.js";

/**
 * Creates `abs` (never following or replacing anything already there) with a tar entry's body, owned
 * by uid:gid with the entry's permission bits; `beforeClose` runs on the open fd (xattrs, times).
 * Shared by the layer applier and ADD's archive extraction.
 */
export async function writeEntryFile(
  abs: string,
  e: TarEntry,
  uid: number,
  gid: number,
  beforeClose?: (fd: number) => void,
): Promise<void> {
  const fd = openSync(
    abs,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    for await (const chunk of e.body()) {
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
    }
    // chown before chmod: chown clears setuid bits and security.capability.
    fchownSync(fd, uid, gid);
    fchmodSync(fd, e.mode & 0o7777);
    beforeClose?.(fd);
  } finally {
    closeSync(fd);
  }
}
