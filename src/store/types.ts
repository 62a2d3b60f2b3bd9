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

/** Content-addressed blobs + image references; the directory is itself an OCI image layout. */
export interface ContentStore {
  readonly root: string;
  has(digest: Digest): boolean;
  blobPath(digest: Digest): string;
  readBlob(digest: Digest): Promise<Buffer>;
  writeBlob(data: Buffer | string, expected?: Digest): Promise<{ digest: Digest; size: number }>;
  ingest(): Promise<IngestWriter>;
  /** Re-hashes a blob; false if missing or corrupt. */
  verify(digest: Digest): Promise<boolean>;
  listImages(): Promise<ImageRecord[]>;
  getImage(name: string): Promise<ImageRecord | undefined>;
  /** Atomically rewrites index.json with `name` pointing at `target` (replacing an older entry). */
  setImage(name: string, target: Descriptor): Promise<void>;
  removeImage(name: string): Promise<boolean>;
}
