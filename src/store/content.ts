import { createReadStream, existsSync, mkdirSync, readdirSync, unlinkSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { TsbuildError } from "../errors.js";
import { digestHex } from "../oci/digest.js";
import type { Descriptor, Digest } from "../oci/types.js";
import { writeFileAtomic } from "../util/atomic.js";
import { readIndex, removeImageRef, setImageRef, imageRecords } from "./index-file.js";
import { ingestFilePid, startIngest, writeBlobSync } from "./ingest.js";
import { withStoreLock } from "./lock.js";
import { processIsAlive } from "./process.js";
import type { ContentStore, ImageRecord } from "./types.js";

/** The lock that guards index.json. */
export const INDEX_LOCK = "index";

/** In-memory blobs up to this size are written on the calling thread (configs, manifests, small layers). */
const SYNC_WRITE_LIMIT = 4 << 20;
const OCI_LAYOUT = `${JSON.stringify({ imageLayoutVersion: "1.0.0" })}\n`;

/**
 * Opens (creating if needed) the content store at `root`, which is also a valid OCI image layout,
 * and removes partial blobs left by processes that died while writing them.
 */
export async function openContentStore(root: string): Promise<ContentStore> {
  mkdirSync(join(root, "blobs", "sha256"), { recursive: true });
  mkdirSync(join(root, "ingest"), { recursive: true });
  if (!existsSync(join(root, "oci-layout")) || !existsSync(join(root, "index.json"))) {
    // Under the lock: a concurrent opener must not overwrite an index.json another process just wrote.
    await withStoreLock(root, INDEX_LOCK, () => {
      if (!existsSync(join(root, "oci-layout"))) writeFileAtomic(join(root, "oci-layout"), OCI_LAYOUT);
      if (!existsSync(join(root, "index.json"))) {
        writeFileAtomic(join(root, "index.json"), `${JSON.stringify({ schemaVersion: 2, manifests: [] })}\n`);
      }
    });
  }
  sweepIngest(root);
  return new FileContentStore(root);
}

/** Removes ingest files whose writer is dead; a live concurrent writer's files are kept. */
export function sweepIngest(root: string): string[] {
  const dir = join(root, "ingest");
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const pid = ingestFilePid(name);
    if (pid === undefined || pid === process.pid || processIsAlive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      // Another opener swept it first.
    }
  }
  return removed;
}

class FileContentStore implements ContentStore {
  constructor(readonly root: string) {}

  blobPath(digest: Digest): string {
    return join(this.root, "blobs", "sha256", digestHex(digest));
  }

  has(digest: Digest): boolean {
    return existsSync(this.blobPath(digest));
  }

  async readBlob(digest: Digest): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        throw new TsbuildError(`blob ${digest}: not found in content store ${this.root}`);
      }
      throw err;
    }
  }

  async writeBlob(data: Buffer | string, expected?: Digest): Promise<{ digest: Digest; size: number }> {
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    // Small blobs are written often (configs and manifests of no-change rebuilds): hashing first
    // skips the ingest, fsync and rename when the blob is already there.
    const digest = `sha256:${createHash("sha256").update(buf).digest("hex")}`;
    if (expected !== undefined && digest !== expected) {
      throw new TsbuildError(
        `blob ${expected}: digest mismatch: content hashes to ${digest} (${buf.length} bytes)`,
      );
    }
    if (this.has(digest)) return { digest, size: buf.length };
    if (buf.length <= SYNC_WRITE_LIMIT) {
      writeBlobSync(this.root, buf, digest as Digest);
      return { digest, size: buf.length };
    }
    const w = await this.ingest();
    w.stream.end(buf);
    return w.commit(expected);
  }

  ingest() {
    return startIngest(this.root);
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

  async listImages(): Promise<ImageRecord[]> {
    return imageRecords(readIndex(this.root));
  }

  async getImage(name: string): Promise<ImageRecord | undefined> {
    return (await this.listImages()).find((r) => r.name === name);
  }

  async setImage(name: string, target: Descriptor): Promise<void> {
    await withStoreLock(this.root, INDEX_LOCK, () => setImageRef(this.root, name, target));
  }

  async removeImage(name: string): Promise<boolean> {
    return withStoreLock(this.root, INDEX_LOCK, () => removeImageRef(this.root, name));
  }
}
