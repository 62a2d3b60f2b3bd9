import { createHash } from "node:crypto";
import { readlinkSync } from "node:fs";
import { relative, sep } from "node:path";
import type { Digest } from "../../src/oci/types.js";
import { STREAM_THRESHOLD, sha256OfLargeFile, sha256OfSmallFile } from "./file-hash.js";
import { excludeFilter } from "./exclude-filter.js";
import type { FileStat } from "../../native/file-stat.js";
import { ContentHashMemo } from "./hash-memo.js";
import type { PathFilter } from "./path-filter.js";
import { type SourceKind, selectSources, sourceSelectOptions } from "./sources.js";

export interface ChecksumOptions {
  /** Follow a symlink named by a source itself, as the copy will. */
  followSymlinks?: boolean;
  /** `COPY --exclude` patterns, .dockerignore syntax relative to each source. */
  excludes?: string[];
  /**
   * "context" (default): uid/gid are left out, since copies from the context are always owned by root or
   * the --chown (part of the instruction), so a checkout by another user still hits the cache.
   * "rootfs": a stage's filesystem, whose owners are copied along.
   */
  sourceKind?: SourceKind;
}

/**
 * The cache input of a COPY/ADD: a digest of exactly what the sources select, as it will land in the
 * destination (relative path, type, permission bits, owner, size, content or link target, hardlinks),
 * without mtimes, so touching or re-checking-out files keeps the cache.
 */
export class ContextHasher {
  private readonly memo: ContentHashMemo;

  constructor(
    private readonly root: string,
    private readonly ignore?: PathFilter,
    memoFile?: string,
  ) {
    this.memo = new ContentHashMemo(memoFile);
  }

  async checksumSources(sources: string[], opts: ChecksumOptions = {}): Promise<Digest> {
    const kind = opts.sourceKind ?? "context";
    const selected = selectSources(this.root, sources, {
      ...sourceSelectOptions(kind),
      ignore: this.ignore,
      exclude: excludeFilter(opts.excludes),
      followSymlinks: opts.followSymlinks,
    });
    const withOwner = kind === "rootfs";
    const firstPathOfInode = new Map<string, string>();
    const records: Row[] = [];
    const large: { row: Row; abs: string; st: FileStat }[] = [];
    const add = (path: string, abs: string, st: FileStat) => {
      const row = this.describe(path, abs, st, withOwner, firstPathOfInode);
      records.push(row);
      if (row.at(-1) === PENDING) large.push({ row, abs, st });
    };
    for (const src of selected) {
      // Where a source was found does not matter, only what lands: the cache key has the patterns anyway,
      // and a directory source puts its contents where a file source puts itself.
      records.push(["source", src.stat.isDirectory() ? "contents" : "entry"]);
      // A directory source's own metadata never lands (COPY copies its contents), so only entries count.
      if (!src.stat.isDirectory()) add(src.name, src.abs, src.stat);
      for (const e of src.entries) add(e.rel, e.abs, e.stat);
    }
    // Large files are streamed one at a time; everything else was hashed synchronously (NOTES: faster).
    for (const { row, abs, st } of large) {
      const hex = await sha256OfLargeFile(abs);
      this.memo.set(this.memoKey(abs), st, hex);
      row[row.length - 1] = hex;
    }
    this.memo.save();
    const input = records.map((row) => JSON.stringify(row)).join("\n");
    return `sha256:${createHash("sha256").update(input).digest("hex")}`;
  }

  /** One entry's row of the checksum input; a large file's content hash is left PENDING. */
  private describe(
    path: string,
    abs: string,
    st: FileStat,
    withOwner: boolean,
    firstPathOfInode: Map<string, string>,
  ): Row {
    const owner = withOwner ? [st.uid, st.gid] : [];
    const mode = st.mode & 0o7777;
    if (st.isDirectory()) return [path, "dir", mode, ...owner];
    if (st.isSymbolicLink()) return [path, "symlink", ...owner, readlinkSync(abs)];
    if (!st.isFile()) return [path, fileTypeName(st), mode, ...owner, st.rdev];
    if (st.nlink > 1) {
      const inode = st.inodeKey;
      const first = firstPathOfInode.get(inode);
      if (first !== undefined) return [path, "hardlink", first];
      firstPathOfInode.set(inode, path);
    }
    return [path, "file", mode, ...owner, st.size, this.contentHashOrPending(abs, st)];
  }

  private contentHashOrPending(abs: string, st: FileStat): string {
    const key = this.memoKey(abs);
    const known = this.memo.get(key, st);
    if (known) return known;
    if (st.size > STREAM_THRESHOLD) return PENDING;
    const hex = sha256OfSmallFile(abs);
    this.memo.set(key, st, hex);
    return hex;
  }

  private memoKey(abs: string): string {
    // A slice where it can: path.relative costs more than the rest of a memo hit.
    const prefix = this.root.endsWith("/") ? this.root : `${this.root}/`;
    if (abs.startsWith(prefix) && !abs.includes("/..")) return abs.slice(prefix.length);
    return relative(this.root, abs).split(sep).join("/");
  }
}

type Row = (string | number)[];
/** Not a hex digest, so it can never be mistaken for one. */
const PENDING = "pending";

function fileTypeName(st: FileStat): string {
  if (st.isFIFO()) return "fifo";
  if (st.isSocket()) return "socket";
  if (st.isCharacterDevice()) return "chardev";
  return "blockdev";
}
