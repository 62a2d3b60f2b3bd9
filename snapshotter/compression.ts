import { availableParallelism } from "node:os";
import type { Transform } from "node:stream";
import { constants, createGunzip, createGzip, gzipSync } from "node:zlib";
import { TsbuildError } from "../src/errors.js";
import { type Compression, MediaType } from "../src/oci/types.js";
import { zstdNapi } from "./zstd.js";

/** NOTES: Node's zlib wants big output chunks; level 1 runs ~2× faster than 6 for ~10 % more bytes. */
const ZLIB_CHUNK = 256 * 1024;
export const GZIP_LEVEL = constants.Z_BEST_SPEED;
export const ZSTD_LEVEL = 3;

export function layerMediaType(c: Compression): string {
  if (c === "gzip") return MediaType.layerGzip;
  if (c === "zstd") return MediaType.layerZstd;
  return MediaType.layerTar;
}

/** A compressing transform, or undefined for "none". */
export function compressor(c: Compression): Transform | undefined {
  if (c === "gzip") return createGzip({ level: GZIP_LEVEL, chunkSize: ZLIB_CHUNK });
  // Without workers zstd runs on the JS thread and stalls the tar walk (NOTES).
  if (c === "zstd")
    return new (zstdNapi().CompressStream)({
      compressionLevel: ZSTD_LEVEL,
      nbWorkers: availableParallelism(),
    });
  return undefined;
}

/** A small layer compressed at once, as compressor() would stream it (zstd streams only). */
export function compressSync(c: "gzip" | "none", data: Buffer): Buffer {
  return c === "gzip" ? gzipSync(data, { level: GZIP_LEVEL }) : data;
}

/** The compression a layer media type uses; an unknown type names the layer. */
export function compressionOf(mediaType: string, digest: string): Compression {
  switch (mediaType) {
    case MediaType.layerGzip:
    case MediaType.dockerLayerGzip:
      return "gzip";
    case MediaType.layerZstd:
      return "zstd";
    case MediaType.layerTar:
    case "application/vnd.docker.image.rootfs.diff.tar":
      return "none";
    default:
      throw new TsbuildError(`layer ${digest}: unsupported media type ${mediaType}`);
  }
}

/** A decompressing transform, or undefined for "none". */
export function decompressor(c: Compression): Transform | undefined {
  if (c === "gzip") return createGunzip({ chunkSize: ZLIB_CHUNK });
  if (c === "zstd") return new (zstdNapi().DecompressStream)();
  return undefined;
}
