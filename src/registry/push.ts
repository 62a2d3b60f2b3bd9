import pLimit from "p-limit";
import { TsbuildError } from "../errors.js";
import { readImage } from "../image/read.js";
import {
  type ImageReference,
  formatReference,
  normalizeImageName,
  resolveReference,
} from "../oci/reference.js";
import type { Descriptor } from "../oci/types.js";
import type { ProgressSink } from "../progress/events.js";
import type { ContentStore } from "../store/types.js";
import { type CredentialSource, pullScope, pushScope } from "./auth.js";
import { uploadBlob } from "./blob-upload.js";
import { RegistryClient } from "./client.js";
import { withContext } from "./errors.js";
import { putManifest } from "./manifest.js";
import { TransferProgress } from "./transfer-progress.js";

export interface PushOptions {
  insecureRegistries?: string[];
  progress?: ProgressSink;
  signal?: AbortSignal;
  /** Blobs larger than this are uploaded in PATCH chunks of this size (default 8 MiB). */
  chunkSize?: number;
  /** Parallel blob uploads. */
  concurrency?: number;
  credentials?: CredentialSource;
}

export interface PushResult {
  /** The fully qualified destination. */
  name: string;
  digest: string;
  /** How each blob got there: already present, mounted from another repository, or uploaded. */
  blobs: { digest: string; how: "exists" | "mounted" | "uploaded" }[];
}

const DEFAULT_CONCURRENCY = 4;

/**
 * Pushes a local image to `dest` (default: its own name): blobs the registry lacks, in parallel,
 * then the manifest, so the registry never serves a manifest whose blobs are missing.
 */
export async function pushImage(
  store: ContentStore,
  localName: string,
  dest?: string,
  opts: PushOptions = {},
): Promise<PushResult> {
  const source = resolveReference(localName);
  const target = resolveReference(dest ?? localName);
  const name = formatReference(target);
  try {
    const local = await store.getImage(normalizeImageName(localName));
    if (!local) throw new TsbuildError(`image ${normalizeImageName(localName)}: not found in the store`);
    const { manifest } = await readImage(store, local.target.digest);
    const mountFrom = mountSource(source, target);
    const scopes = [pushScope(target.repository), ...(mountFrom ? [pullScope(mountFrom)] : [])];
    const client = new RegistryClient(target.registry, opts);
    const limit = pLimit(opts.concurrency ?? DEFAULT_CONCURRENCY);
    const blobs = [...new Map([manifest.config, ...manifest.layers].map((d) => [d.digest, d])).values()];
    const missing = blobs.find((d) => !store.has(d.digest));
    if (missing) throw new TsbuildError(`blob ${missing.digest}: missing from the content store`);
    const outcomes = await Promise.all(
      blobs.map((d) => limit(() => pushBlob(client, target.repository, d, store, scopes, mountFrom, opts))),
    );
    const bytes = await store.readBlob(local.target.digest);
    const reference = target.tag ?? target.digest!;
    await putManifest(client, target.repository, reference, bytes, manifest.mediaType, scopes);
    return {
      name,
      digest: local.target.digest,
      blobs: blobs.map((d, i) => ({ digest: d.digest, how: outcomes[i]! })),
    };
  } catch (err) {
    throw withContext(`push ${name}`, err);
  }
}

async function pushBlob(
  client: RegistryClient,
  repository: string,
  desc: Descriptor,
  store: ContentStore,
  scopes: readonly string[],
  mountFrom: string | undefined,
  opts: PushOptions,
): Promise<"exists" | "mounted" | "uploaded"> {
  const progress = new TransferProgress(
    opts.progress,
    desc.digest,
    `push ${desc.digest.slice(7, 19)}`,
    desc.size,
  );
  if (await client.hasBlob(repository, desc.digest, scopes)) {
    progress.done();
    return "exists";
  }
  const uploadOpts = { chunkSize: opts.chunkSize, ...(mountFrom ? { mountFrom } : {}) };
  return uploadBlob(client, repository, desc, store, scopes, progress, uploadOpts);
}

/** An image named after another repository of the same registry was likely pulled from there: mount from it. */
function mountSource(source: ImageReference, target: ImageReference): string | undefined {
  return source.registry === target.registry && source.repository !== target.repository
    ? source.repository
    : undefined;
}
