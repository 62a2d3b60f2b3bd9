// ADD extracts local tar archives, recognized by content, never by name: a compressed file that does
// not hold a tar (a plain .gz) is copied as it is, as Docker does.
import { spawn } from "node:child_process";
import { closeSync, createReadStream, openSync, readSync } from "node:fs";
import { decompressor } from "../../../snapshotter/compression.js";
import { BLOCK, decodeBlock } from "../../../snapshotter/layer/tar-format.js";

export type ArchiveCompression = "none" | "gzip" | "bzip2" | "xz" | "zstd";

const MAGIC: [ArchiveCompression, number[]][] = [
  ["gzip", [0x1f, 0x8b]],
  ["bzip2", [0x42, 0x5a, 0x68]],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
];

function compressionOfHead(head: Buffer): ArchiveCompression {
  for (const [name, magic] of MAGIC) if (magic.every((b, i) => head[i] === b)) return name;
  return "none";
}

/**
 * The file's bytes, decompressed. bzip2 and xz go through Debian's CLI tools (no dependency for formats
 * this rare); gzip through node:zlib; zstd through zstd-napi.
 */
export async function* decompressedStream(path: string, c: ArchiveCompression): AsyncGenerator<Buffer> {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  if (c === "none") {
    yield* file;
    return;
  }
  if (c === "gzip" || c === "zstd") {
    const dec = decompressor(c)!;
    file.on("error", (err) => dec.destroy(err));
    yield* file.pipe(dec);
    return;
  }
  file.destroy();
  const tool = c === "bzip2" ? "bzip2" : "xz";
  const child = spawn(tool, ["-dc", "--", path], { stdio: ["ignore", "pipe", "pipe"] });
  const stderr: Buffer[] = [];
  child.stderr.on("data", (b: Buffer) => stderr.push(b));
  const exited = new Promise<number | null>((res, rej) => {
    child.on("error", rej).on("close", res);
  });
  let finished = false;
  try {
    yield* child.stdout;
    finished = true;
  } finally {
    if (!finished) child.kill();
  }
  const code = await exited.catch((err: Error) => {
    throw new Error(`${tool} -dc ${path}: ${err.message} (is the ${tool} package installed?)`, {
      cause: err,
    });
  });
  if (code !== 0)
    throw new Error(`${tool} -dc ${path}: exit ${code}: ${Buffer.concat(stderr).toString().trim()}`);
}

/** Whether `block` is a valid tar header (a checksum that adds up). */
function isTarHeader(block: Buffer): boolean {
  if (block.length < BLOCK) return false;
  try {
    return decodeBlock(block) !== null;
  } catch {
    return false;
  }
}

/** How `path` is compressed if it is a tar archive (possibly compressed); undefined for any other file. */
export async function detectTarArchive(path: string): Promise<ArchiveCompression | undefined> {
  const fd = openSync(path, "r");
  const head = Buffer.alloc(BLOCK);
  let n: number;
  try {
    n = readSync(fd, head, 0, BLOCK, 0);
  } finally {
    closeSync(fd);
  }
  const c = compressionOfHead(head.subarray(0, n));
  if (c === "none") return isTarHeader(head.subarray(0, n)) ? "none" : undefined;
  // Decompress only as far as the first header block.
  let first = Buffer.alloc(0);
  try {
    for await (const chunk of decompressedStream(path, c)) {
      first = Buffer.concat([first, chunk]);
      if (first.length >= BLOCK) break;
    }
  } catch {
    return undefined; // not decompressible: a file that merely starts like one
  }
  return isTarHeader(first.subarray(0, BLOCK)) ? c : undefined;
}
