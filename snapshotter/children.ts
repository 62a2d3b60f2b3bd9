import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../src/util/atomic.js";

// Which snapshots are based on which, so that removing a committed snapshot looks up its children
// instead of reading every record (a prune read N×N records: 21 s for 2,000 snapshots).
//
// snapshots/children.log is a journal: a header line, then "+ parent child" and "- parent child"
// lines (keys URI-encoded, so neither holds a space or a newline), each appended under the snapshots
// lock with one write(2). An append allocates no inode, unlike a file per edge: on this journal-less
// ext4 new inodes are what gets slow after a busy spell. Each process keeps the index in memory and,
// under the lock, reads only what was appended since.
//
// The log may name more children than the records do, never fewer: "+" is appended before the
// child's record is written and "-" only after it is gone, so a process killed in between leaves an
// edge to nothing, which the caller checks against the child's record. A rewrite (recovery,
// compaction, a missing log) goes temp + fsync + rename under a new header: a process holding the old
// content sees the header change and reads the new file from the start.
//
// Appends are not fsynced: a power cut may lose the tail while the child's record, which is durable,
// survives. The header names the boot it was written in, and a log from an earlier boot is rebuilt
// from the records before it is trusted; the owner files that make open() recover after a crash are
// not fsynced either, so they may be lost in the same power cut.

export const CHILDREN_LOG = "children.log";
/** Parent → child pairs. */
export type Edges = Iterable<readonly [string, string]>;

const HEADER = /^# tsbuild snapshot children v1 boot (\S+) log ([0-9a-f]+)$/;
/** Compaction when the lines outnumber twice the live edges by this much (~700 KB)... */
const COMPACT_SLACK = 4096;
/** ...checked by appends too once the log is this big: builds alone never read it to compact it. */
const CHECK_BYTES = 4 << 20;
/** A header is shorter; a file starting otherwise is not a log. */
const HEADER_MAX = 256;

let boot: string | undefined;
function bootId(): string {
  try {
    boot ??= readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    boot = "unknown";
  }
  return boot;
}

const line = (op: "+" | "-", parent: string, child: string) =>
  `${op} ${encodeURIComponent(parent)} ${encodeURIComponent(child)}\n`;

/** Replaces the log with exactly `edges`, durably, under a new header. Call with the lock held. */
export function writeChildrenLog(root: string, edges: Edges): { header: string; bytes: number } {
  const header = `# tsbuild snapshot children v1 boot ${bootId()} log ${randomBytes(6).toString("hex")}`;
  const parts = [`${header}\n`];
  for (const [parent, child] of edges) parts.push(line("+", parent, child));
  const text = parts.join("");
  writeFileAtomic(join(root, CHILDREN_LOG), text);
  return { header, bytes: Buffer.byteLength(text) };
}

function readAt(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.alloc(length);
  let n = 0;
  while (n < length) {
    const got = readSync(fd, buf, n, length - n, position + n);
    if (got === 0) break;
    n += got;
  }
  return buf.subarray(0, n);
}

/** The first line, if the file has one short enough to be a header. */
function readHeader(fd: number): string | undefined {
  const head = readAt(fd, HEADER_MAX, 0);
  const nl = head.indexOf(0x0a);
  return nl < 0 ? undefined : head.toString("utf8", 0, nl);
}

/**
 * Cuts off a torn last line (a write cut short: a full disk, a crash) so that the next line starts
 * on a line of its own, instead of running into it and being misread. Returns the size after.
 */
function endOnNewline(fd: number): number {
  const size = fstatSync(fd).size;
  for (let end = size; end > 0;) {
    const start = Math.max(0, end - 4096);
    const nl = readAt(fd, end - start, start).lastIndexOf(0x0a);
    if (nl >= 0) {
      if (start + nl + 1 < size) ftruncateSync(fd, start + nl + 1);
      return start + nl + 1;
    }
    end = start;
  }
  if (size > 0) ftruncateSync(fd, 0); // not even a header: the next reader rebuilds it
  return 0;
}

/**
 * The parent → children index of one snapshots root, as this process last read it. Every method
 * must be called with the snapshots lock held. `fromRecords` lists the edges the records hold now:
 * what the log is rebuilt from when it is missing (a store made before it) or from another boot.
 */
export class ChildIndex {
  private readonly edges = new Map<string, Set<string>>();
  /** Header of the file the edges were read from, and how far: "" and 0 before the first read. */
  private header = "";
  private offset = 0;
  private lines = 0;
  private live = 0;

  constructor(
    private readonly root: string,
    private readonly fromRecords: () => Edges,
  ) {}

  private get path(): string {
    return join(this.root, CHILDREN_LOG);
  }

  /** Before the child's record is written. */
  add(parent: string, child: string): void {
    this.append(line("+", parent, child), true);
  }

  /**
   * After the child's record is removed. Never throws: the snapshot is gone either way, and an edge
   * left behind only makes the caller read that child's record once more.
   */
  delete(parent: string, child: string): void {
    try {
      this.append(line("-", parent, child), false);
    } catch {
      // see above
    }
  }

  /** The children `parent` may have: every one it has, and maybe some removed since (check them). */
  childrenOf(parent: string): string[] {
    this.refresh();
    this.compactIfSparse();
    return [...(this.edges.get(parent) ?? [])];
  }

  private rebuild(): void {
    writeChildrenLog(this.root, this.fromRecords());
  }

  private append(text: string, rebuildIfMissing: boolean): void {
    let fd: number;
    try {
      fd = openSync(this.path, constants.O_RDWR | constants.O_APPEND);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      // A "-" needs no log: the one rebuilt from the records later lacks the edge already.
      if (!rebuildIfMissing) return;
      this.rebuild();
      fd = openSync(this.path, constants.O_RDWR | constants.O_APPEND);
    }
    let size: number;
    try {
      const buf = Buffer.from(text);
      size = endOnNewline(fd) + buf.length;
      // One write(2) of a short line to a regular file: a SIGKILL does not cut it in the middle.
      if (writeSync(fd, buf) !== buf.length) throw new Error(`${this.path}: short write`);
    } finally {
      closeSync(fd);
    }
    if (size > CHECK_BYTES) {
      this.refresh();
      this.compactIfSparse();
    }
  }

  /** Brings the edges up to the end of the log, reading only what is new when it is the same file. */
  private refresh(): void {
    for (let attempt = 0; ; attempt++) {
      let fd: number;
      try {
        fd = openSync(this.path, "r");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT" || attempt > 1) throw err;
        this.rebuild();
        continue;
      }
      try {
        const size = fstatSync(fd).size;
        const header = readHeader(fd);
        if (header !== this.header || size < this.offset) {
          if (header?.match(HEADER)?.[1] !== bootId()) {
            if (attempt > 1) throw new Error(`${this.path}: not a children log after a rebuild`);
            this.rebuild();
            continue;
          }
          this.reset(header);
        }
        this.readTail(fd, size);
        return;
      } finally {
        closeSync(fd);
      }
    }
  }

  private reset(header: string): void {
    this.edges.clear();
    this.header = header;
    this.offset = Buffer.byteLength(header) + 1;
    this.lines = 0;
    this.live = 0;
  }

  private readTail(fd: number, size: number): void {
    if (size <= this.offset) return;
    const buf = readAt(fd, size - this.offset, this.offset);
    // Whole lines only: a torn one is cut off by the next append (endOnNewline).
    const end = buf.lastIndexOf(0x0a) + 1;
    for (const text of buf.toString("utf8", 0, end).split("\n")) if (text) this.apply(text);
    this.offset += end;
  }

  private apply(text: string): void {
    this.lines++;
    const m = /^([+-]) (\S+) (\S+)$/.exec(text);
    if (!m) return; // not a line this code writes: skipped, like a torn record
    let parent: string, child: string;
    try {
      [parent, child] = [decodeURIComponent(m[2]!), decodeURIComponent(m[3]!)];
    } catch {
      return;
    }
    let children = this.edges.get(parent);
    if (m[1] === "+") {
      if (!children) this.edges.set(parent, (children = new Set()));
      if (!children.has(child)) this.live++;
      children.add(child);
    } else if (children?.delete(child)) {
      this.live--;
      if (children.size === 0) this.edges.delete(parent);
    }
  }

  /** Rewrites the log from memory (the same edges) when most of its lines are of edges gone since. */
  private compactIfSparse(): void {
    if (this.lines <= 2 * this.live + COMPACT_SLACK) return;
    const edges = [...this.edges].flatMap(([parent, children]) =>
      [...children].map((child) => [parent, child] as const),
    );
    const { header, bytes } = writeChildrenLog(this.root, edges);
    this.header = header;
    this.offset = bytes;
    this.lines = this.live;
  }
}
