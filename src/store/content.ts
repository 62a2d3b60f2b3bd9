// The content store: blobs (blobs.ts) and image names (image-names.ts) in one OCI image layout
// directory, so the store is itself a valid layout that skopeo, umoci and friends read as is.
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { OciLayoutDir } from "../oci/layout.js";
import { makeDirs } from "../util/make-dirs.js";
import type { Descriptor, Digest } from "../oci/types.js";
import { FileBlobStore } from "./blobs.js";
import { INDEX_LOCK, IndexImageNames } from "./image-names.js";
import { withStoreLock } from "./lock.js";
import { processIsAlive } from "../util/process.js";
import { sweepTemps } from "../util/temp-files.js";
import type { ContentStore, ImageRecord, IngestWriter } from "./types.js";

export { INDEX_LOCK } from "./image-names.js";

/**
 * Opens (creating if needed) the content store at `root`, which is also a valid OCI image layout,
 * and removes partial blobs left by processes that died while writing them.
 */
export async function openContentStore(root: string): Promise<ContentStore> {
  // The root comes from the user (TSBUILD_ROOT): made component by component, with an error naming it.
  makeDirs(root, `store ${root}`);
  const layout = new OciLayoutDir(root);
  mkdirSync(layout.blobDir, { recursive: true });
  mkdirSync(join(root, "ingest"), { recursive: true });
  if (!existsSync(join(root, "oci-layout")) || !existsSync(join(root, "index.json"))) {
    // Under the lock: a concurrent opener must not overwrite an index.json another process just wrote.
    await withStoreLock(root, INDEX_LOCK, () => {
      layout.init();
      if (!layout.readIndex()) layout.writeIndex({ schemaVersion: 2, manifests: [] }, { pretty: true });
    });
  }
  sweepIngest(root);
  return new FileContentStore(new FileBlobStore(layout), new IndexImageNames(layout));
}

/**
 * Removes ingest files whose writer is dead; a live concurrent writer's files are kept. Also the
 * `<pid>-<hex>` names of stores written before ingest files were temp files like the others.
 */
export function sweepIngest(root: string): string[] {
  const dir = join(root, "ingest");
  const removed = sweepTemps(dir);
  for (const name of readdirSync(dir)) {
    const m = /^(\d+)-[0-9a-f]+$/.exec(name);
    if (!m || processIsAlive(Number(m[1]))) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

class FileContentStore implements ContentStore {
  readonly root: string;

  constructor(
    private readonly blobs: FileBlobStore,
    private readonly names: IndexImageNames,
  ) {
    this.root = blobs.root;
  }

  has(digest: Digest): boolean {
    return this.blobs.has(digest);
  }
  blobPath(digest: Digest): string {
    return this.blobs.blobPath(digest);
  }
  readBlob(digest: Digest): Promise<Buffer> {
    return this.blobs.readBlob(digest);
  }
  writeBlob(data: Buffer | string, expected?: Digest): Promise<{ digest: Digest; size: number }> {
    return this.blobs.writeBlob(data, expected);
  }
  ingest(): Promise<IngestWriter> {
    return this.blobs.ingest();
  }
  verify(digest: Digest): Promise<boolean> {
    return this.blobs.verify(digest);
  }
  listBlobs(): Digest[] {
    return this.blobs.listBlobs();
  }
  deleteBlob(digest: Digest): number {
    return this.blobs.deleteBlob(digest);
  }
  listImages(): Promise<ImageRecord[]> {
    return this.names.listImages();
  }
  getImage(name: string): Promise<ImageRecord | undefined> {
    return this.names.getImage(name);
  }
  setImage(name: string, target: Descriptor): Promise<void> {
    return this.names.setImage(name, target);
  }
  removeImage(name: string): Promise<boolean> {
    return this.names.removeImage(name);
  }
}
