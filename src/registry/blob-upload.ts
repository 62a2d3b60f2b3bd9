import { open } from "node:fs/promises";
import type { Descriptor } from "../oci/types.js";
import type { ContentStore } from "../store/types.js";
import type { RegistryClient } from "./client.js";
import { RegistryError } from "./errors.js";
import type { TransferProgress } from "./transfer-progress.js";
import type { HttpResponse } from "../http/client.js";

/** Blobs up to this size go in one PUT; larger ones in PATCH chunks of this size. */
export const DEFAULT_CHUNK_SIZE = 8 << 20;

export interface UploadOptions {
  chunkSize?: number;
  /** A repository of the same registry that may hold the blob already: try a cross-repository mount. */
  mountFrom?: string;
}

/** "mounted" when the registry linked the blob from another repository, "uploaded" otherwise. */
export type UploadResult = "mounted" | "uploaded";

/**
 * Uploads one blob from the store: POST (with ?mount= when asked) → PUT for small blobs, or
 * POST → PATCH chunks → PUT ?digest= for large ones. Any failure restarts the blob from a new POST:
 * the registry only commits a blob whose digest it verified at the final PUT, so nothing corrupt remains.
 */
export async function uploadBlob(
  client: RegistryClient,
  repository: string,
  desc: Descriptor,
  store: ContentStore,
  scopes: readonly string[],
  progress: TransferProgress,
  opts: UploadOptions = {},
): Promise<UploadResult> {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const result = await client.withRetry(
    async () => {
      const start = new URL(`/v2/${repository}/blobs/uploads/`, client.baseUrl);
      if (opts.mountFrom) {
        start.searchParams.set("mount", desc.digest);
        start.searchParams.set("from", opts.mountFrom);
      }
      const started = await client.requestOnce("POST", start.toString(), { scopes, expect: [201, 202] });
      await started.discard();
      if (started.status === 201) return "mounted" as const;
      let location = nextLocation(started, repository);
      if (desc.size <= chunkSize) {
        const data = await store.readBlob(desc.digest);
        await finish(client, location, desc, scopes, data);
        progress.add(data.length);
        return "uploaded" as const;
      }
      const fh = await open(store.blobPath(desc.digest), "r");
      try {
        const buf = Buffer.allocUnsafe(chunkSize);
        for (let offset = 0; offset < desc.size;) {
          const { bytesRead } = await fh.read(buf, 0, Math.min(chunkSize, desc.size - offset), offset);
          if (bytesRead === 0)
            throw new RegistryError(`blob ${desc.digest}: store file is shorter than its size`, 0, false);
          const res = await client.requestOnce("PATCH", location, {
            scopes,
            headers: {
              "content-type": "application/octet-stream",
              "content-range": `${offset}-${offset + bytesRead - 1}`,
            },
            body: buf.subarray(0, bytesRead),
            expect: [202],
          });
          await res.discard();
          location = nextLocation(res, repository);
          offset += bytesRead;
          progress.add(bytesRead);
        }
      } finally {
        await fh.close();
      }
      await finish(client, location, desc, scopes);
      return "uploaded" as const;
    },
    () => progress.reset(),
  );
  progress.done();
  return result;
}

/** The final PUT ?digest=: the registry checks the digest and only then makes the blob visible. */
async function finish(
  client: RegistryClient,
  location: string,
  desc: Descriptor,
  scopes: readonly string[],
  body?: Buffer,
): Promise<void> {
  const url = new URL(location, client.baseUrl);
  url.searchParams.set("digest", desc.digest);
  const res = await client.requestOnce("PUT", url.toString(), {
    scopes,
    headers: { "content-type": "application/octet-stream" },
    body,
    expect: [201, 204],
  });
  await res.discard();
}

function nextLocation(res: HttpResponse, repository: string): string {
  const location = res.headers.get("location");
  if (!location)
    throw new RegistryError(`upload to ${repository}: registry sent no Location`, res.status, false);
  return location;
}
