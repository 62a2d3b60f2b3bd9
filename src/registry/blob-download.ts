import { once } from "node:events";
import { TsbuildError } from "../errors.js";
import type { Descriptor } from "../oci/types.js";
import type { ContentStore } from "../store/types.js";
import type { RegistryClient } from "./client.js";
import { RegistryError } from "./errors.js";
import type { TransferProgress } from "./transfer-progress.js";

/**
 * Streams a blob into the store's ingest area; the store verifies the digest before the blob appears.
 * A dropped connection aborts the ingest (no partial blob) and the whole blob is fetched again.
 */
export async function downloadBlob(
  client: RegistryClient,
  repository: string,
  desc: Descriptor,
  store: ContentStore,
  scopes: readonly string[],
  progress: TransferProgress,
): Promise<void> {
  await client.withRetry(
    async () => {
      const res = await client.requestOnce("GET", `/v2/${repository}/blobs/${desc.digest}`, {
        scopes,
        expect: [200],
      });
      let writer: Awaited<ReturnType<ContentStore["ingest"]>>;
      try {
        writer = await store.ingest();
      } catch (err) {
        res.body.destroy();
        throw err;
      }
      try {
        let received = 0;
        // The socket's own chunks (64 KiB) go straight to the ingest stream, which hashes and writes them.
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          received += chunk.length;
          // Stop early on a registry that sends more than the descriptor says instead of filling the disk.
          if (received > desc.size)
            throw new TsbuildError(`blob ${desc.digest}: larger than its ${desc.size} bytes`);
          progress.add(chunk.length);
          if (!writer.stream.write(chunk)) await once(writer.stream, "drain");
        }
        // A body cut short without a socket error (a proxy closing early): fetch it again.
        if (received < desc.size) {
          throw new RegistryError(
            `blob ${desc.digest}: connection closed after ${received} of ${desc.size} bytes`,
            0,
            true,
          );
        }
        await writer.commit(desc.digest);
      } catch (err) {
        res.body.destroy();
        await writer.abort();
        throw err;
      }
    },
    () => progress.reset(),
  );
  progress.done();
}
