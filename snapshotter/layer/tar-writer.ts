import { closeSync, openSync, readlinkSync, readSync, type Stats } from "node:fs";
import { once } from "node:events";
import type { Writable } from "node:stream";
import { TsbuildError } from "../../src/errors.js";
import { checkLayerPath, joinPath, OPAQUE_MARKER, splitPath, WHITEOUT_PREFIX } from "./path-safety.js";
import { END_OF_ARCHIVE, encodeHeader, type TarHeader, type TarType, zeroPadding } from "./tar-format.js";
import { type XattrPolicy, layerXattrs, readXattrs } from "./xattrs.js";

/** Output is coalesced into chunks of at least this size before it is hashed and compressed (NOTES). */
const CHUNK = 1 << 20;
/** Files up to this size are read in one synchronous call; bigger ones in CHUNK pieces. */
const READ_PIECE = 1 << 20;

export interface LayerTarWriterOptions {
  /** Clamp every mtime to this (seconds); whiteouts get it as their mtime. */
  sourceDateEpoch?: number;
  /** Which extended attributes entries carry (default: security.capability only). */
  xattrs?: XattrPolicy;
}

/** Linux dev_t → major/minor (glibc's gnu_dev_major/minor), without 64-bit bit operations. */
export function devMajorMinor(rdev: number): [number, number] {
  const lo = rdev % 2 ** 32;
  const hi = Math.floor(rdev / 2 ** 32);
  const major = ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0);
  const minor = (lo & 0xff) | ((lo >>> 12) & 0xfff00);
  return [major >>> 0, minor >>> 0];
}

function typeOf(st: Stats, path: string): TarType {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "directory";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isCharacterDevice()) return "char";
  if (st.isBlockDevice()) return "block";
  if (st.isFIFO()) return "fifo";
  throw new TsbuildError(`layer entry ${JSON.stringify(path)}: sockets cannot be stored in a layer`);
}

/**
 * Writes an OCI layer tar, after umoci's generator: three verbs, deterministic headers (numeric
 * ids only, no user/group names, clamped mtimes), hard links to the first path written for an inode.
 * Output goes to `out` in ≥1 MiB chunks, honouring its back-pressure; `finish()` ends it.
 */
export class LayerTarWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly inodes = new Map<string, string>();
  /** Bytes of tar written so far (the uncompressed size). */
  size = 0;
  entries = 0;

  constructor(
    private readonly out: Writable,
    private readonly opts: LayerTarWriterOptions = {},
  ) {}

  private mtime(seconds: number): number {
    const epoch = this.opts.sourceDateEpoch;
    return epoch !== undefined && seconds > epoch ? epoch : seconds;
  }

  private push(buf: Buffer): void {
    if (buf.length === 0) return;
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    this.size += buf.length;
  }

  private async flush(force = false): Promise<void> {
    if (this.pendingBytes === 0 || (!force && this.pendingBytes < CHUNK)) return;
    const chunk =
      this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.out.write(chunk)) await once(this.out, "drain");
  }

  private header(h: TarHeader): void {
    for (const b of encodeHeader(h)) this.push(b);
    this.entries++;
  }

  /**
   * Adds `path` (relative, inside the layer) with the metadata of `stat` and the content of the
   * host file `source`. `xattrs` are the source's attributes if the caller already read them.
   */
  async addFile(path: string, stat: Stats, source: string, xattrs?: Map<string, Buffer>): Promise<void> {
    checkLayerPath(path);
    const type = typeOf(stat, path);
    const base: TarHeader = {
      name: path,
      type,
      mode: stat.mode & 0o7777,
      uid: stat.uid,
      gid: stat.gid,
      size: 0,
      mtime: this.mtime(Math.floor(stat.mtimeMs / 1000)),
    };
    if (type !== "directory" && stat.nlink > 1) {
      const key = `${stat.dev}:${stat.ino}`;
      const first = this.inodes.get(key);
      if (first !== undefined) {
        this.header({ ...base, type: "link", linkname: first });
        return this.flush();
      }
      this.inodes.set(key, path);
    }
    const xa = layerXattrs(xattrs ?? readXattrs(source), this.opts.xattrs);
    if (xa.size > 0) base.xattrs = xa;
    if (type === "symlink") base.linkname = readlinkSync(source);
    if (type === "char" || type === "block") [base.devmajor, base.devminor] = devMajorMinor(stat.rdev);
    if (type !== "file") {
      this.header(base);
      return this.flush();
    }
    base.size = stat.size;
    this.header(base);
    await this.content(path, source, stat.size);
    this.push(zeroPadding(stat.size));
    await this.flush();
  }

  private async content(path: string, source: string, size: number): Promise<void> {
    const fd = openSync(source, "r");
    try {
      let done = 0;
      while (done < size) {
        const piece = Buffer.allocUnsafe(Math.min(READ_PIECE, size - done));
        let got = 0;
        while (got < piece.length) {
          const n = readSync(fd, piece, got, piece.length - got, done + got);
          if (n === 0)
            throw new TsbuildError(`layer entry ${JSON.stringify(path)}: ${source} shrank while being read`);
          got += n;
        }
        done += got;
        this.push(piece);
        await this.flush();
      }
    } finally {
      closeSync(fd);
    }
  }

  private async marker(path: string): Promise<void> {
    const epoch = this.opts.sourceDateEpoch ?? 0;
    this.header({ name: path, type: "file", mode: 0, uid: 0, gid: 0, size: 0, mtime: epoch });
    await this.flush();
  }

  /** Records the deletion of `path` (of any type) from the lower layers: an empty `.wh.<name>` file. */
  async addWhiteout(path: string): Promise<void> {
    checkLayerPath(path);
    const [dir, name] = splitPath(path);
    await this.marker(joinPath(dir, `${WHITEOUT_PREFIX}${name}`));
  }

  /** Hides everything the lower layers have under directory `dir` ("" is the root). */
  async addOpaque(dir: string): Promise<void> {
    if (dir !== "") checkLayerPath(dir);
    await this.marker(joinPath(dir, OPAQUE_MARKER));
  }

  /** Writes the end-of-archive blocks, flushes and ends the output stream. */
  async finish(): Promise<void> {
    this.push(END_OF_ARCHIVE);
    await this.flush(true);
    this.out.end();
  }
}
