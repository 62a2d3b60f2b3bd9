// The tar (ustar + PAX) header format, encoded and decoded by hand rather than through tar-stream:
// tar-stream reads and writes PAX values as UTF-8 text, which corrupts binary xattrs such as
// security.capability. Here PAX values are raw bytes, as in Go's archive/tar.

export const BLOCK = 512;

export type TarType = "file" | "link" | "symlink" | "char" | "block" | "directory" | "fifo";

const TYPEFLAG: Record<TarType, string> = {
  file: "0",
  link: "1",
  symlink: "2",
  char: "3",
  block: "4",
  directory: "5",
  fifo: "6",
};

export interface TarHeader {
  /** Path inside the archive, without a leading "./" or "/"; directories without a trailing "/". */
  name: string;
  type: TarType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, written as PAX SCHILY.xattr.<name> records. */
  xattrs?: Map<string, Buffer>;
}

const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

function octal(buf: Buffer, value: number, offset: number, width: number): void {
  // width includes the terminating NUL
  buf.write(value.toString(8).padStart(width - 1, "0"), offset, width - 1, "ascii");
}

function fits(s: string, max: number): boolean {
  return Buffer.byteLength(s) <= max && /^[\x20-\x7e]*$/.test(s);
}

function paxRecord(key: string, value: Buffer): Buffer {
  // "<len> <key>=<value>\n" where <len> counts itself
  const rest = Buffer.byteLength(key) + value.length + 3; // space, '=', newline
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from("\n")]);
}

function ustarBlock(h: TarHeader, name: string, typeflag: string, size: number): Buffer {
  const buf = Buffer.alloc(BLOCK);
  buf.write(name, 0, 100, "utf8");
  octal(buf, h.mode & 0o7777, 100, 8);
  octal(buf, Math.min(h.uid, MAX_OCTAL_8), 108, 8);
  octal(buf, Math.min(h.gid, MAX_OCTAL_8), 116, 8);
  octal(buf, Math.min(size, MAX_OCTAL_12), 124, 12);
  octal(buf, Math.min(Math.max(h.mtime, 0), MAX_OCTAL_12), 136, 12);
  buf[156] = typeflag.charCodeAt(0);
  if (h.linkname && fits(h.linkname, 100)) buf.write(h.linkname, 157, 100, "utf8");
  buf.write("ustar\u000000", 257, 8, "ascii");
  if (h.type === "char" || h.type === "block") {
    octal(buf, h.devmajor ?? 0, 329, 8);
    octal(buf, h.devminor ?? 0, 337, 8);
  }
  buf.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of buf) sum += b;
  buf.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8, "ascii");
  return buf;
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

export function zeroPadding(size: number): Buffer {
  return Buffer.alloc(padding(size));
}

/**
 * The header block(s) for an entry: a PAX extended header first when a field does not fit ustar
 * (long or non-ASCII names, big ids or sizes) or the entry has xattrs. Deterministic: no user or
 * group names, PAX records in a fixed order (xattrs sorted by name).
 */
export function encodeHeader(h: TarHeader): Buffer[] {
  const records: Buffer[] = [];
  const name = h.type === "directory" ? `${h.name}/` : h.name;
  if (!fits(name, 100)) records.push(paxRecord("path", Buffer.from(name)));
  if (h.linkname !== undefined && !fits(h.linkname, 100)) {
    records.push(paxRecord("linkpath", Buffer.from(h.linkname)));
  }
  if (h.uid > MAX_OCTAL_8) records.push(paxRecord("uid", Buffer.from(String(h.uid))));
  if (h.gid > MAX_OCTAL_8) records.push(paxRecord("gid", Buffer.from(String(h.gid))));
  if (h.size > MAX_OCTAL_12) records.push(paxRecord("size", Buffer.from(String(h.size))));
  if (h.xattrs) {
    for (const key of [...h.xattrs.keys()].sort()) {
      records.push(paxRecord(`SCHILY.xattr.${key}`, h.xattrs.get(key)!));
    }
  }
  const shortName = fits(name, 100) ? name : name.replace(/[^\x20-\x7e]/g, "_").slice(-100);
  const main = ustarBlock(h, shortName, TYPEFLAG[h.type], h.size);
  if (records.length === 0) return [main];
  const pax = Buffer.concat(records);
  const paxName = `PaxHeaders/${shortName}`.slice(0, 100);
  return [
    ustarBlock({ ...h, linkname: undefined }, paxName, "x", pax.length),
    pax,
    zeroPadding(pax.length),
    main,
  ];
}

/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

// ---- decoding ----

function cstring(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString("utf8", start, end === -1 || end > start + len ? start + len : end);
}

function numeric(buf: Buffer, start: number, len: number): number {
  if (buf[start]! & 0x80) {
    // GNU base-256 for values too big for octal
    let v = 0;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + buf[i]!;
    return v;
  }
  const s = cstring(buf, start, len).trim();
  return s === "" ? 0 : Number.parseInt(s, 8);
}

export interface RawHeader {
  typeflag: string;
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
}

/** Decodes one 512-byte header block; null for a zero block (end of archive). Throws on a bad checksum. */
export function decodeBlock(buf: Buffer): RawHeader | null {
  if (buf.every((b) => b === 0)) return null;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : buf[i]!;
  if (sum !== numeric(buf, 148, 8)) throw new Error("tar header checksum mismatch (not a tar archive?)");
  let name = cstring(buf, 0, 100);
  if (buf.toString("ascii", 257, 262) === "ustar") {
    const prefix = cstring(buf, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    typeflag: String.fromCharCode(buf[156] || 0x30),
    name,
    mode: numeric(buf, 100, 8),
    uid: numeric(buf, 108, 8),
    gid: numeric(buf, 116, 8),
    size: numeric(buf, 124, 12),
    mtime: numeric(buf, 136, 12),
    linkname: cstring(buf, 157, 100),
    devmajor: numeric(buf, 329, 8),
    devminor: numeric(buf, 337, 8),
  };
}

/** Parses PAX records, keeping values as bytes (xattr values are binary). */
export function decodePax(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < buf.length) {
    const sp = buf.indexOf(0x20, off);
    if (sp === -1) break;
    const len = Number.parseInt(buf.toString("ascii", off, sp), 10);
    if (!(len > 0) || off + len > buf.length) throw new Error("malformed PAX header");
    const rec = buf.subarray(sp + 1, off + len - 1); // without the trailing newline
    const eq = rec.indexOf(0x3d);
    if (eq !== -1) out.set(rec.toString("utf8", 0, eq), Buffer.from(rec.subarray(eq + 1)));
    off += len;
  }
  return out;
}

export function paddedSize(size: number): number {
  return size + padding(size);
}
