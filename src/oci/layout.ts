// An OCI image layout directory (image-spec image-layout.md: `oci-layout`, `index.json`,
// `blobs/sha256/<hex>`), read and written in one place: the content store is one, `-o type=oci` into a
// directory makes one, and a `--cache-to type=local` cache is one. Every write is atomic (a reader sees
// a blob whole or not at all, index.json old or new) and durable (fsynced before it is relied on).
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
} from "node:fs";
import { rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { TsbuildError } from "../errors.js";
import { fsyncDir, writeFileAtomic } from "../util/atomic.js";
import { tempPathBeside } from "../util/temp-files.js";
import { canonicalJson } from "./canonical-json.js";
import { digestHex } from "./digest.js";
import type { Digest, ImageIndex } from "./types.js";

/** The content of a layout's `oci-layout` file. */
export const OCI_LAYOUT_FILE = `${JSON.stringify({ imageLayoutVersion: "1.0.0" })}\n`;

/** The mode of every blob: content-addressed files are never modified in place. */
export const BLOB_MODE = 0o444;

export interface IndexFormat {
  /** Indented JSON (the store's own index, read by people) instead of canonical JSON (exports). */
  pretty?: boolean;
}

export class OciLayoutDir {
  constructor(readonly dir: string) {}

  get blobDir(): string {
    return join(this.dir, "blobs", "sha256");
  }

  blobPath(digest: Digest): string {
    return join(this.blobDir, digestHex(digest));
  }

  hasBlob(digest: Digest): boolean {
    return existsSync(this.blobPath(digest));
  }

  /** Makes the blob dir and the `oci-layout` file if missing (an existing layout is left as it is). */
  init(): void {
    mkdirSync(this.blobDir, { recursive: true });
    const marker = join(this.dir, "oci-layout");
    if (!existsSync(marker)) writeFileAtomic(marker, OCI_LAYOUT_FILE);
  }

  /** Writes a blob held in memory: temp file (at `tmpPath`, default beside it), fsync, rename, dir fsync. */
  writeBlob(digest: Digest, data: Buffer, tmpPath?: string): void {
    // A concurrent write of the same content may rename over ours: same bytes, still atomic.
    writeFileAtomic(this.blobPath(digest), data, { mode: BLOB_MODE, tmpPath });
  }

  /**
   * Copies the blob file `src` in unless the layout has it (content-addressed: same name, same bytes).
   * The copy is fsynced before its rename; call syncBlobs() once after a batch. Returns whether it copied.
   */
  copyBlobFrom(src: string, digest: Digest): boolean {
    const dest = this.blobPath(digest);
    if (existsSync(dest)) return false;
    const tmp = tempPathBeside(dest);
    copyFileSync(src, tmp);
    const fd = openSync(tmp, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, dest);
    return true;
  }

  /** Moves a complete, fsynced temp file (on the same filesystem) into place as `digest`. */
  async adoptBlob(tmp: string, digest: Digest): Promise<void> {
    if (this.hasBlob(digest)) {
      await unlink(tmp);
      return;
    }
    // A concurrent commit of the same content may rename over ours: same bytes, still atomic.
    await rename(tmp, this.blobPath(digest));
    this.syncBlobs();
  }

  /** Makes the blob dir's new entries durable. */
  syncBlobs(): void {
    fsyncDir(this.blobDir);
  }

  /** index.json, or undefined when the layout has none yet. */
  readIndex(): ImageIndex | undefined {
    const path = join(this.dir, "index.json");
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new TsbuildError(`${path}: unreadable image index: ${(err as Error).message}`, { cause: err });
    }
    try {
      const index = JSON.parse(text) as ImageIndex;
      if (!Array.isArray(index.manifests)) throw new Error("no manifests array");
      return index;
    } catch (err) {
      throw new TsbuildError(`${path}: unreadable image index: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Replaces index.json atomically (and the `oci-layout` file if missing). */
  writeIndex(index: ImageIndex, format: IndexFormat = {}): void {
    const body = format.pretty ? JSON.stringify(index, null, 2) : canonicalJson(index);
    writeFileAtomic(join(this.dir, "index.json"), `${body}\n`);
  }
}
