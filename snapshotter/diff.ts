import { createHash } from "node:crypto";
import { lstatSync, readdirSync, type Stats } from "node:fs";
import { join } from "node:path";
import { PassThrough, Transform, type TransformCallback, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { lstatDir } from "../native/index.js";
import { TsbuildError } from "../src/errors.js";
import { sha256 } from "../src/oci/digest.js";
import type { ContentStore } from "../src/store/types.js";
import type { Compression, Descriptor, Digest } from "../src/oci/types.js";
import { compressor, compressSync, layerMediaType } from "./compression.js";
import { existsInLowers, isOpaqueDir, isWhiteout, REDIRECT_XATTRS } from "./layer/overlay-markers.js";
import { joinPath } from "./layer/path-safety.js";
import { LayerTarWriter } from "./layer/tar-writer.js";
import { readXattrs, type XattrPolicy } from "./layer/xattrs.js";
import { FileStat } from "../native/file-stat.js";

export interface DiffOptions {
  /** The overlay upper dir (or, for a snapshot without parent, the whole tree). Must not be mounted rw. */
  upperDir: string;
  /** The committed lower fs dirs, nearest first. */
  lowerDirs: string[];
  store: ContentStore;
  compression?: Compression;
  sourceDateEpoch?: number;
  /** Which extended attributes the layer records (default: security.capability only). */
  xattrs?: XattrPolicy;
  /** Uppers smaller than this are built in memory (default 1 MiB; 0 always streams). */
  inMemoryLimit?: number;
}

export interface DiffResult {
  layer: Descriptor;
  diffId: Digest;
  uncompressedSize: number;
  entries: number;
}

/** Hashes what passes through (the uncompressed tar: the diff id) without copying it. */
class HashTap extends Transform {
  readonly hash = createHash("sha256");
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

interface Child {
  name: string;
  path: string;
  st: Stats;
  xattrs: Map<string, Buffer>;
}

/** Uppers whose files add up to less than this become layers in memory, without the stream pipeline. */
const IN_MEMORY_LIMIT = 1 << 20;

/**
 * Turns an overlay upper dir into an OCI layer (README §5.5) in one streaming pass:
 * walk → tar → sha256 (diff id) → compress → content store ingest (which hashes the layer digest).
 * A small upper (most RUN steps: a few files) is tarred and compressed in memory instead: the
 * pipeline's set-up and hand-offs cost ~2 ms, more than the work.
 */
export async function diffUpper(opts: DiffOptions): Promise<DiffResult> {
  const compression = opts.compression ?? "gzip";
  const limit = opts.inMemoryLimit ?? IN_MEMORY_LIMIT;
  if (compression !== "zstd" && fitsInMemory(opts.upperDir, limit)) return diffInMemory(opts, compression);
  const ingest = await opts.store.ingest();
  const head = new PassThrough({ highWaterMark: 4 << 20 });
  const tap = new HashTap();
  const z = compressor(compression);
  const flowing = z ? pipeline(head, tap, z, ingest.stream) : pipeline(head, tap, ingest.stream);
  const writer = new LayerTarWriter(head, { sourceDateEpoch: opts.sourceDateEpoch, xattrs: opts.xattrs });
  try {
    // If the pipeline fails (disk full…) stop walking instead of waiting for a drain that never comes.
    await Promise.race([walkInto(writer, opts.upperDir, opts.lowerDirs), flowing.then(() => undefined)]);
    await writer.finish();
    await flowing;
  } catch (err) {
    head.destroy();
    await flowing.catch(() => undefined);
    await ingest.abort();
    throw err;
  }
  const { digest, size } = await ingest.commit();
  return {
    layer: { mediaType: layerMediaType(compression), digest, size },
    diffId: `sha256:${tap.hash.digest("hex")}`,
    uncompressedSize: writer.size,
    entries: writer.entries,
  };
}

/** Whether the files under `dir` (with a tar header's worth per entry) add up to less than the limit. */
function fitsInMemory(dir: string, limit: number): boolean {
  let total = 0;
  const visit = (d: string): boolean => {
    const { names, fields } = lstatDir(d);
    for (let i = 0; i < names.length; i++) {
      const st = FileStat.at(fields, i);
      total += 1024 + (st.isFile() ? st.size : 0);
      if (total >= limit) return false;
      if (st.isDirectory() && !visit(`${d}/${names[i]}`)) return false;
    }
    return true;
  };
  return limit > 0 && visit(dir);
}

async function diffInMemory(opts: DiffOptions, compression: "gzip" | "none"): Promise<DiffResult> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    highWaterMark: IN_MEMORY_LIMIT * 4,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  const writer = new LayerTarWriter(sink, { sourceDateEpoch: opts.sourceDateEpoch, xattrs: opts.xattrs });
  await walkInto(writer, opts.upperDir, opts.lowerDirs);
  await writer.finish();
  const tar = Buffer.concat(chunks);
  const { digest, size } = await opts.store.writeBlob(compressSync(compression, tar));
  return {
    layer: { mediaType: layerMediaType(compression), digest, size },
    diffId: sha256(tar),
    uncompressedSize: writer.size,
    entries: writer.entries,
  };
}

async function walkInto(writer: LayerTarWriter, upper: string, lowers: string[]): Promise<void> {
  const rootXattrs = readXattrs(upper);
  if (lowers.length > 0 && isOpaqueDir(upper, rootXattrs)) await writer.addOpaque("");
  await walkDir(writer, upper, "", lowers);
}

async function walkDir(writer: LayerTarWriter, upper: string, rel: string, lowers: string[]): Promise<void> {
  const dirPath = rel === "" ? upper : join(upper, rel);
  const names = readdirSync(dirPath).sort(byteOrder);
  const whiteouts: string[] = [];
  const rest: Child[] = [];
  for (const name of names) {
    const path = join(dirPath, name);
    const st = lstatSync(path);
    const xattrs = readXattrs(path);
    if (isWhiteout(st, path, xattrs)) whiteouts.push(name);
    else rest.push({ name, path, st, xattrs });
  }
  for (const name of whiteouts) {
    const childRel = joinPath(rel, name);
    // Created and deleted in the same step: nothing to hide below.
    if (existsInLowers(lowers, childRel)) await writer.addWhiteout(childRel);
  }
  for (const c of rest) {
    const childRel = joinPath(rel, c.name);
    if (REDIRECT_XATTRS.some((k) => c.xattrs.has(k))) {
      throw new TsbuildError(
        `${c.path}: renamed directory (overlay redirect_dir) cannot be expressed in a layer; mount with redirect_dir=off`,
      );
    }
    await writer.addFile(childRel, c.st, c.path, c.xattrs);
    if (!c.st.isDirectory()) continue;
    // An opaque dir only needs its marker if there is something below to hide; below it the
    // lowers are hidden, so its whiteouts hide nothing either.
    const opaque = isOpaqueDir(c.path, c.xattrs);
    if (opaque && existsInLowers(lowers, childRel)) await writer.addOpaque(childRel);
    await walkDir(writer, upper, childRel, opaque ? [] : lowers);
  }
}
