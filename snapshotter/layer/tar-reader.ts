import { BLOCK, decodeBlock, decodePax, paddedSize, type TarHeader, type TarType } from "./tar-format.js";

const TYPES: Record<string, TarType> = {
  "0": "file",
  "7": "file",
  "1": "link",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "directory",
  "6": "fifo",
};

/**
 * A header as read (every field present; `name` as written in the archive, PAX path / GNU long name
 * applied, not yet normalized or checked) plus its content.
 */
export interface TarEntry extends Required<TarHeader> {
  /** The content, in chunks; what the caller does not read is skipped. */
  body(): AsyncGenerator<Buffer>;
}

/** Pulls exact byte counts out of a stream of chunks. */
class ByteSource {
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<boolean> {
    while (this.buf.length < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else this.buf = this.buf.length === 0 ? r.value : Buffer.concat([this.buf, r.value]);
    }
    return this.buf.length >= n;
  }

  async read(n: number): Promise<Buffer> {
    if (!(await this.fill(n))) throw new Error("unexpected end of tar archive");
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Up to `max` bytes (at least one), without concatenating chunks. */
  async chunk(max: number): Promise<Buffer> {
    if (!(await this.fill(1))) throw new Error("unexpected end of tar archive");
    const out = this.buf.subarray(0, Math.min(max, this.buf.length));
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  /** Consumes the rest (the trailing zero blocks and any padding), so the caller's hashes cover it all. */
  async drain(): Promise<void> {
    this.buf = Buffer.alloc(0);
    while (!this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
    }
  }
}

/**
 * Reads a tar stream entry by entry. Handles ustar, PAX (x, g) and GNU long names (L, K).
 * The source is read to its end, so a hash tapped upstream covers every byte.
 */
export async function* readTar(source: AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const src = new ByteSource(source[Symbol.asyncIterator]());
  let global = new Map<string, Buffer>();
  let pax: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const raw = decodeBlock(await src.read(BLOCK));
    if (raw === null) break;
    if (raw.typeflag === "x" || raw.typeflag === "g" || raw.typeflag === "L" || raw.typeflag === "K") {
      const data = (await src.read(paddedSize(raw.size))).subarray(0, raw.size);
      if (raw.typeflag === "x") pax = decodePax(data);
      else if (raw.typeflag === "g") global = new Map([...global, ...decodePax(data)]);
      else if (raw.typeflag === "L") longName = cstr(data);
      else longLink = cstr(data);
      continue;
    }
    const type = TYPES[raw.typeflag];
    if (type === undefined)
      throw new Error(`unsupported tar entry type ${JSON.stringify(raw.typeflag)} for ${raw.name}`);
    const records = new Map([...global, ...(pax ?? [])]);
    const text = (k: string) => records.get(k)?.toString("utf8");
    const xattrs = new Map<string, Buffer>();
    for (const [k, v] of records) if (k.startsWith("SCHILY.xattr.")) xattrs.set(k.slice(13), v);
    const size = type === "file" ? Number(text("size") ?? raw.size) : 0;
    let consumed = 0;
    const entry: TarEntry = {
      name: text("path") ?? longName ?? raw.name,
      type,
      mode: raw.mode,
      uid: Number(text("uid") ?? raw.uid),
      gid: Number(text("gid") ?? raw.gid),
      size,
      mtime: Math.floor(Number(text("mtime") ?? raw.mtime)),
      linkname: text("linkpath") ?? longLink ?? raw.linkname,
      devmajor: raw.devmajor,
      devminor: raw.devminor,
      xattrs,
      async *body() {
        while (consumed < size) {
          const c = await src.chunk(size - consumed);
          consumed += c.length;
          yield c;
        }
      },
    };
    pax = undefined;
    longName = undefined;
    longLink = undefined;
    yield entry;
    // Skip what the consumer left, then the padding.
    let rest = paddedSize(size) - consumed;
    while (rest > 0) rest -= (await src.chunk(rest)).length;
  }
  await src.drain();
}

function cstr(b: Buffer): string {
  const end = b.indexOf(0);
  return b.toString("utf8", 0, end === -1 ? b.length : end);
}
