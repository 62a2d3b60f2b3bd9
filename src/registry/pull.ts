import pLimit from "p-limit";
import { TsbuildError } from "../errors.js";
import { isIndexType } from "../image/media-types.js";
import { formatReference, resolveReference } from "../oci/reference.js";
import type { Descriptor, ImageIndex, ImageManifest } from "../oci/types.js";
import type { ProgressSink } from "../progress/events.js";
import type { ContentStore, ImageRecord } from "../store/types.js";
import { pullScope } from "./auth.js";
import type { CredentialSource } from "./auth.js";
import { downloadBlob } from "./blob-download.js";
import { RegistryClient } from "./client.js";
import { withContext } from "./errors.js";
import { type FetchedManifest, fetchManifest } from "./manifest.js";
import { DEFAULT_PLATFORM, formatPlatform, parsePlatform, pickPlatform } from "./platform.js";
import { TransferProgress } from "./transfer-progress.js";

export interface PullOptions {
  /** `os/arch[/variant]` to pick from an index; default linux/amd64. */
  platform?: string;
  insecureRegistries?: string[];
  progress?: ProgressSink;
  signal?: AbortSignal;
  /** Parallel blob downloads. */
  concurrency?: number;
  credentials?: CredentialSource;
}

const DEFAULT_CONCURRENCY = 4;

/**
 * Pulls one image into the store: the manifest (chosen from an index by platform), its config and the
 * layers the store lacks, each verified against its digest; then names it with the fully qualified name.
 */
export async function pullImage(
  store: ContentStore,
  ref: string,
  opts: PullOptions = {},
): Promise<ImageRecord> {
  const image = resolveReference(ref);
  const name = formatReference(image);
  try {
    const client = new RegistryClient(image.registry, opts);
    const scopes = [pullScope(image.repository)];
    let manifest = await fetchManifest(client, image.repository, image.digest ?? image.tag!, scopes);
    if (isIndexType(manifest.mediaType)) {
      manifest = await resolvePlatform(
        client,
        image.repository,
        manifest,
        opts.platform ?? DEFAULT_PLATFORM,
        scopes,
      );
    }
    const parsed = JSON.parse(manifest.bytes.toString("utf8")) as ImageManifest;
    if (!parsed.config || !Array.isArray(parsed.layers)) {
      throw new TsbuildError(
        `manifest ${manifest.digest}: unsupported manifest (media type ${manifest.mediaType})`,
      );
    }
    const limit = pLimit(opts.concurrency ?? DEFAULT_CONCURRENCY);
    const blobs = uniqueByDigest([parsed.config, ...parsed.layers]).filter((d) => !store.has(d.digest));
    await Promise.all(
      blobs.map((d) =>
        limit(() => {
          const progress = new TransferProgress(
            opts.progress,
            d.digest,
            `pull ${d.digest.slice(7, 19)}`,
            d.size,
          );
          return downloadBlob(client, image.repository, d, store, scopes, progress);
        }),
      ),
    );
    // The manifest last: a store never holds a manifest whose blobs are missing.
    await store.writeBlob(manifest.bytes, manifest.digest);
    const target: Descriptor = {
      mediaType: manifest.mediaType,
      digest: manifest.digest,
      size: manifest.bytes.length,
    };
    await store.setImage(name, target);
    return { name, target };
  } catch (err) {
    throw withContext(`pull ${name}`, err);
  }
}

async function resolvePlatform(
  client: RegistryClient,
  repository: string,
  index: FetchedManifest,
  platform: string,
  scopes: readonly string[],
): Promise<FetchedManifest> {
  const want = parsePlatform(platform);
  const parsed = JSON.parse(index.bytes.toString("utf8")) as ImageIndex;
  const entry = pickPlatform(parsed.manifests ?? [], want);
  if (!entry) {
    const available = (parsed.manifests ?? []).flatMap((m) =>
      m.platform ? [formatPlatform(m.platform)] : [],
    );
    throw new TsbuildError(
      `no manifest for platform ${platform} in index ${index.digest} (available: ${available.join(", ") || "none"})`,
    );
  }
  const manifest = await fetchManifest(client, repository, entry.digest, scopes);
  if (isIndexType(manifest.mediaType))
    throw new TsbuildError(`index ${index.digest}: nested indexes are not supported`);
  return manifest;
}

function uniqueByDigest(descs: Descriptor[]): Descriptor[] {
  return [...new Map(descs.map((d) => [d.digest, d])).values()];
}
