// Where a remote cache lives: a registry repository (tag) or an OCI layout directory (tag in index.json).
// Both hold the same manifest; loading reads only the manifest and the config, blobs come one at a time.
import { once } from "node:events";
import { createReadStream, existsSync, readFileSync } from "node:fs";
import pLimit from "p-limit";
import { TsbuildError } from "../../../src/errors.js";
import { canonicalJson } from "../../../src/oci/canonical-json.js";
import { sha256 } from "../../../src/oci/digest.js";
import { OciLayoutDir } from "../../../src/oci/layout.js";
import { resolveReference } from "../../../src/oci/reference.js";
import {
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  MediaType,
  REF_NAME_ANNOTATION,
} from "../../../src/oci/types.js";
import type { ProgressSink } from "../../../src/progress/events.js";
import { pullScope, pushScope } from "../../../src/registry/auth.js";
import { downloadBlob } from "../../../src/registry/blob-download.js";
import { uploadBlob } from "../../../src/registry/blob-upload.js";
import { RegistryClient } from "../../../src/registry/client.js";
import { RegistryError, withContext } from "../../../src/registry/errors.js";
import { fetchManifest, putManifest } from "../../../src/registry/manifest.js";
import { TransferProgress } from "../../../src/registry/transfer-progress.js";
import type { ContentStore } from "../../../src/store/types.js";
import { CACHE_CONFIG_MEDIA_TYPE, type RemoteCacheConfig } from "./format.js";
import { type CacheLocation, describeLocation } from "./spec.js";

export interface LoadedCache {
  config: RemoteCacheConfig;
  layers: Descriptor[];
}

export interface CacheTransport {
  readonly name: string;
  /** The manifest and config only (the config blob may land in `store`); undefined when there is no cache yet. */
  load(store: ContentStore): Promise<LoadedCache | undefined>;
  /** Copies one blob into the store (verified against its digest). */
  fetchBlob(desc: Descriptor, store: ContentStore): Promise<void>;
  /** Writes the blobs (from the store) the destination lacks, then the manifest. Returns blobs written. */
  save(store: ContentStore, manifest: Buffer, blobs: Descriptor[]): Promise<number>;
}

export interface TransportOptions {
  insecureRegistries?: string[];
  progress?: ProgressSink;
  signal?: AbortSignal;
}

export function openTransport(loc: CacheLocation, opts: TransportOptions): CacheTransport {
  return loc.type === "registry"
    ? new RegistryTransport(loc.ref, opts)
    : new LocalTransport(loc.dir, loc.tag);
}

function parseCacheManifest(name: string, bytes: Buffer): ImageManifest {
  let m: ImageManifest;
  try {
    m = JSON.parse(bytes.toString("utf8")) as ImageManifest;
  } catch {
    throw new TsbuildError(`cache ${name}: manifest is not JSON`);
  }
  if (m.config?.mediaType !== CACHE_CONFIG_MEDIA_TYPE || !Array.isArray(m.layers))
    throw new TsbuildError(
      `cache ${name}: not a tsbuild cache (config media type ${m.config?.mediaType ?? "none"})`,
    );
  return m;
}

function parseConfig(name: string, bytes: Buffer, desc: Descriptor): RemoteCacheConfig {
  if (sha256(bytes) !== desc.digest)
    throw new TsbuildError(`cache ${name}: config content does not match ${desc.digest}`);
  return JSON.parse(bytes.toString("utf8")) as RemoteCacheConfig;
}

/** The manifest of a cache: an OCI image manifest (artifact) with the cache config and the layers. */
export function cacheManifest(config: Descriptor, layers: Descriptor[]): Buffer {
  const m: ImageManifest = { schemaVersion: 2, mediaType: MediaType.imageManifest, config, layers };
  return Buffer.from(canonicalJson(m));
}

class RegistryTransport implements CacheTransport {
  private readonly client: RegistryClient;
  private readonly repository: string;
  private readonly reference: string;

  constructor(
    readonly name: string,
    private readonly opts: TransportOptions,
  ) {
    const ref = resolveReference(name);
    this.client = new RegistryClient(ref.registry, opts);
    this.repository = ref.repository;
    this.reference = ref.digest ?? ref.tag ?? "latest";
  }

  async load(store: ContentStore): Promise<LoadedCache | undefined> {
    const scopes = [pullScope(this.repository)];
    try {
      const fetched = await fetchManifest(this.client, this.repository, this.reference, scopes);
      const m = parseCacheManifest(this.name, fetched.bytes);
      if (!store.has(m.config.digest)) {
        const progress = new TransferProgress(undefined, m.config.digest, "cache config", m.config.size);
        await downloadBlob(this.client, this.repository, m.config, store, scopes, progress);
      }
      const config = parseConfig(this.name, await store.readBlob(m.config.digest), m.config);
      return { config, layers: m.layers };
    } catch (err) {
      if (err instanceof RegistryError && err.status === 404) return undefined;
      throw withContext(`cache ${this.name}`, err);
    }
  }

  async fetchBlob(desc: Descriptor, store: ContentStore): Promise<void> {
    const progress = new TransferProgress(
      this.opts.progress,
      desc.digest,
      `cache ${desc.digest.slice(7, 19)}`,
      desc.size,
    );
    try {
      await downloadBlob(this.client, this.repository, desc, store, [pullScope(this.repository)], progress);
    } catch (err) {
      throw withContext(`cache ${this.name}`, err);
    }
  }

  async save(store: ContentStore, manifest: Buffer, blobs: Descriptor[]): Promise<number> {
    const scopes = [pushScope(this.repository)];
    const limit = pLimit(4);
    try {
      const written = await Promise.all(
        blobs.map((d) =>
          limit(async () => {
            const progress = new TransferProgress(
              this.opts.progress,
              d.digest,
              `cache ${d.digest.slice(7, 19)}`,
              d.size,
            );
            if (await this.client.hasBlob(this.repository, d.digest, scopes)) {
              progress.done();
              return 0;
            }
            await uploadBlob(this.client, this.repository, d, store, scopes, progress);
            return 1;
          }),
        ),
      );
      await putManifest(
        this.client,
        this.repository,
        this.reference,
        manifest,
        MediaType.imageManifest,
        scopes,
      );
      return written.reduce<number>((a, b) => a + b, 0);
    } catch (err) {
      throw withContext(`cache ${this.name}`, err);
    }
  }
}

class LocalTransport implements CacheTransport {
  readonly name: string;
  private readonly layout: OciLayoutDir;

  constructor(
    dir: string,
    private readonly tag: string,
  ) {
    this.name = describeLocation({ type: "local", dir, tag });
    this.layout = new OciLayoutDir(dir);
  }

  private readIndex(): ImageIndex | undefined {
    try {
      return this.layout.readIndex();
    } catch (err) {
      throw new TsbuildError(`cache ${this.name}: unreadable index.json: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  private readBlob(desc: Descriptor): Buffer {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.layout.blobPath(desc.digest));
    } catch (err) {
      throw new TsbuildError(`cache ${this.name}: blob ${desc.digest} is missing`, { cause: err });
    }
    if (sha256(bytes) !== desc.digest)
      throw new TsbuildError(`cache ${this.name}: blob ${desc.digest} does not match its digest`);
    return bytes;
  }

  async load(): Promise<LoadedCache | undefined> {
    const entry = this.readIndex()?.manifests?.find((d) => d.annotations?.[REF_NAME_ANNOTATION] === this.tag);
    if (!entry) return undefined;
    const m = parseCacheManifest(this.name, this.readBlob(entry));
    return { config: parseConfig(this.name, this.readBlob(m.config), m.config), layers: m.layers };
  }

  async fetchBlob(desc: Descriptor, store: ContentStore): Promise<void> {
    const path = this.layout.blobPath(desc.digest);
    if (!existsSync(path)) throw new TsbuildError(`cache ${this.name}: blob ${desc.digest} is missing`);
    const writer = await store.ingest();
    try {
      for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
        if (!writer.stream.write(chunk)) await once(writer.stream, "drain");
      }
      await writer.commit(desc.digest);
    } catch (err) {
      await writer.abort();
      throw new TsbuildError(`cache ${this.name}: blob ${desc.digest}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  async save(store: ContentStore, manifest: Buffer, blobs: Descriptor[]): Promise<number> {
    try {
      this.layout.init();
    } catch (err) {
      throw new TsbuildError(`cache ${this.name}: ${(err as Error).message}`, { cause: err });
    }
    let written = 0;
    for (const d of blobs) if (this.layout.copyBlobFrom(store.blobPath(d.digest), d.digest)) written++;
    const digest = sha256(manifest);
    this.layout.writeBlob(digest, manifest);
    const entry: Descriptor = {
      mediaType: MediaType.imageManifest,
      digest,
      size: manifest.length,
      annotations: { [REF_NAME_ANNOTATION]: this.tag },
    };
    const kept = (this.readIndex()?.manifests ?? []).filter(
      (d) => d.annotations?.[REF_NAME_ANNOTATION] !== this.tag,
    );
    this.layout.writeIndex({
      schemaVersion: 2,
      mediaType: MediaType.imageIndex,
      manifests: [...kept, entry],
    });
    return written;
  }
}
