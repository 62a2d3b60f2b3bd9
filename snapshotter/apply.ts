import { createHash } from "node:crypto";
import { createReadStream, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { TsbuildError } from "../src/errors.js";
import type { Descriptor, Digest } from "../src/oci/types.js";
import type { ContentStore } from "../src/store/types.js";
import { compressionOf, decompressor } from "./compression.js";
import { LayerExtractor } from "./layer/extractor.js";
import { readTar } from "./layer/tar-reader.js";

export interface ApplyOptions {
  store: ContentStore;
  layer: Descriptor;
  /** A fresh, empty, unmounted snapshot fs dir (the upper dir of an active snapshot). */
  targetDir: string;
  expectedDiffId?: Digest;
}

class HashTap extends Transform {
  readonly hash = createHash("sha256");
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }
  digest(): Digest {
    return `sha256:${this.hash.digest("hex")}`;
  }
}

function emptyDir(dir: string): void {
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
}

/**
 * Extracts a layer blob into `targetDir`, turning OCI whiteouts into overlayfs markers, and
 * checks both the blob digest and the diff id (the digests are known only once the whole blob
 * has been read, so the check comes after extraction).
 *
 * Contract on failure: the error names the layer (and the entry, if one is at fault); targetDir
 * is emptied so that no partial tree can pass for the layer, and the caller must still discard
 * the snapshot it belongs to (unpackLayers removes the active snapshot).
 */
export async function applyLayer(opts: ApplyOptions): Promise<{ diffId: Digest }> {
  const { layer, targetDir } = opts;
  const label = `layer ${layer.digest}`;
  const dec = decompressor(compressionOf(layer.mediaType, layer.digest));
  const compressedTap = new HashTap();
  const tarTap = new HashTap();
  const extractor = new LayerExtractor(targetDir, label);
  const extract = async (source: AsyncIterable<Buffer>) => {
    for await (const entry of readTar(source)) await extractor.add(entry);
    extractor.finish();
  };
  const blob = createReadStream(opts.store.blobPath(layer.digest), { highWaterMark: 1 << 20 });
  try {
    if (dec) await pipeline(blob, compressedTap, dec, tarTap, extract);
    else await pipeline(blob, compressedTap, tarTap, extract);
    const digest = compressedTap.digest();
    if (digest !== layer.digest) throw new TsbuildError(`${label}: blob content has digest ${digest}`);
    const diffId = tarTap.digest();
    if (opts.expectedDiffId !== undefined && diffId !== opts.expectedDiffId) {
      throw new TsbuildError(`${label}: diff id is ${diffId}, expected ${opts.expectedDiffId}`);
    }
    return { diffId };
  } catch (err) {
    emptyDir(targetDir);
    if (err instanceof TsbuildError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ENOENT" && e.path === opts.store.blobPath(layer.digest)) {
      throw new TsbuildError(`${label}: blob not found in content store ${opts.store.root}`);
    }
    throw new TsbuildError(`${label}: ${e.message}`, { cause: err });
  }
}
