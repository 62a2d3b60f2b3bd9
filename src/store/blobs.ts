// The blob half of the content store: content-addressed files in the store's OCI layout, written
// through ingest/ so that readers never see a partial blob.
import { createReadStream, readdirSync, statSync, unlinkSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { pipeline } from "node:stream/promises";
import { TsbuildError } from "../errors.js";
import type { OciLayoutDir } from "../oci/layout.js";
import type { Digest } from "../oci/types.js";
import { startIngest, writeBlobSync } from "./ingest.js";
import type { BlobStore, IngestWriter } from "./types.js";

/** In-memory blobs up to this size are written on the calling thread (configs, manifests, small layers). */
const SYNC_WRITE_LIMIT = 4 << 20;

export class FileBlobStore implements BlobStore {
  readonly root: string;

  constructor(private readonly layout: OciLayoutDir) {
    this.root = layout.dir;
  }

  blobPath(digest: Digest): string {
    return this.layout.blobPath(digest);
  }

  has(digest: Digest): boolean {
    return this.layout.hasBlob(digest);
  }

  async readBlob(digest: Digest): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        throw new TsbuildError(`blob ${digest}: not found in content store ${this.root}`, { cause: err });
      }
      throw err;
    }
  }

  async writeBlob(data: Buffer | string, expected?: Digest): Promise<{ digest: Digest; size: number }> {
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    // Small blobs are written often (configs and manifests of no-change rebuilds): hashing first
    // skips the ingest, fsync and rename when the blob is already there.
    const digest: Digest = `sha256:${createHash("sha256").update(buf).digest("hex")}`;
    if (expected !== undefined && digest !== expected) {
      throw new TsbuildError(
        `blob ${expected}: digest mismatch: content hashes to ${digest} (${buf.length} bytes)`,
      );
    }
    if (this.has(digest)) return { digest, size: buf.length };
    if (buf.length <= SYNC_WRITE_LIMIT) {
      writeBlobSync(this.layout, buf, digest);
      return { digest, size: buf.length };
    }
    const w = await this.ingest();
    w.stream.end(buf);
    return w.commit(expected);
  }

  ingest(): Promise<IngestWriter> {
    return startIngest(this.layout);
  }

  async verify(digest: Digest): Promise<boolean> {
    const hash = createHash("sha256");
    try {
      await pipeline(createReadStream(this.blobPath(digest), { highWaterMark: 1 << 20 }), hash);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw err;
    }
    return `sha256:${hash.digest("hex")}` === digest;
  }

  listBlobs(): Digest[] {
    return readdirSync(this.layout.blobDir)
      .filter((hex) => /^[0-9a-f]{64}$/.test(hex))
      .map((hex) => `sha256:${hex}` as Digest);
  }

  deleteBlob(digest: Digest): number {
    const path = this.blobPath(digest);
    let bytes: number;
    try {
      bytes = statSync(path).size;
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
      throw err;
    }
    return bytes;
  }
}
