import type { Writable } from "node:stream";
import type { Descriptor, Digest } from "../oci/types.js";

/** A partial blob being written. Readers never see it until commit() renames it into blobs/. */
export interface IngestWriter {
  /** The stream to write the blob's bytes into. */
  readonly stream: Writable;
  /** Verifies (if given) the digest, fsyncs and renames into blobs/sha256/. Idempotent for existing blobs. */
  commit(expected?: Digest): Promise<{ digest: Digest; size: number }>;
  abort(): Promise<void>;
}

export interface ImageRecord {
  /** The image name as the user gave it, with ":latest" added when it had no tag (e.g. "hello:1"). */
  name: string;
  /** The manifest descriptor. */
  target: Descriptor;
}

/** Content-addressed blobs under `root/blobs/sha256/`, written through `root/ingest/`. */
export interface BlobStore {
  readonly root: string;
  has(digest: Digest): boolean;
  blobPath(digest: Digest): string;
  readBlob(digest: Digest): Promise<Buffer>;
  writeBlob(data: Buffer | string, expected?: Digest): Promise<{ digest: Digest; size: number }>;
  ingest(): Promise<IngestWriter>;
  /** Re-hashes a blob; false if missing or corrupt. */
  verify(digest: Digest): Promise<boolean>;
  /** Every blob's digest, in no particular order. */
  listBlobs(): Digest[];
  /** Removes a blob; returns the bytes it held, 0 when there was none. Only garbage collection calls it. */
  deleteBlob(digest: Digest): number;
}

/** Image names: the store's index.json, one manifest descriptor per name. */
export interface ImageNames {
  listImages(): Promise<ImageRecord[]>;
  getImage(name: string): Promise<ImageRecord | undefined>;
  /** Atomically rewrites index.json with `name` pointing at `target` (replacing an older entry). */
  setImage(name: string, target: Descriptor): Promise<void>;
  removeImage(name: string): Promise<boolean>;
}

/** Blobs plus image names: the directory is itself an OCI image layout. */
export interface ContentStore extends BlobStore, ImageNames {}
