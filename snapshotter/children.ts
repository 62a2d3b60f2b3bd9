import { closeSync, fstatSync, ftruncateSync, type Stats, statSync, writeSync } from "node:fs";
import {
  childrenLogPath,
  type Edges,
  endOnNewline,
  formatLine,
  linesStart,
  type Op,
  openChildrenLog,
  parseLine,
  readAt,
  writeChildrenLog,
} from "./children-log.js";

// Which snapshots are based on which, so that removing a committed snapshot looks up its children
// instead of reading every record (a prune read N×N records: 21 s for 2,000 snapshots).
//
// The index is kept in children.log (children-log.ts), appended to under the snapshots lock: an
// append allocates no inode, unlike a file per edge, and on this journal-less ext4 new inodes are
// what gets slow after a busy spell. A process that has read the log keeps the index in memory and
// the file open. Under the lock, one stat tells whether the log is still that file (an open file's
// inode number cannot go to another) and how much was appended since; only that is read. A rewrite
// (recovery, compaction, a missing log) puts another file in place, which is read from the start.
//
// The log may name more children than the records do, never fewer: "+" is appended before the
// child's record is written and "-" only after it is gone, so a process killed in between leaves an
// edge to nothing, which the caller checks against the child's record.

/** Compaction when the lines outnumber twice the live edges by this much (~700 KB)... */
const COMPACT_SLACK = 4096;
/** ...checked by appends too once the log is this big: builds alone never read it to compact it. */
const CHECK_BYTES = 4 << 20;

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

function openOrUndefined(root: string): number | undefined {
  try {
    return openChildrenLog(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** One write(2) of a short line to a regular file: a SIGKILL does not cut it in the middle. */
function writeLine(fd: number, buf: Buffer): void {
  if (writeSync(fd, buf) !== buf.length) throw new Error("snapshots/children.log: short write");
}

/**
 * The parent → children index of one snapshots root, as this process last read it. Every method
 * must be called with the snapshots lock held. `fromRecords` lists the edges the records hold now:
 * what the log is rebuilt from when it is missing (a store made before it) or from another boot.
 */
export class ChildIndex {
  private readonly edges = new Map<string, Set<string>>();
  /** The log as read so far: open (which pins its inode), its inode number, where its whole lines end. */
  private fd: number | undefined;
  private ino = 0;
  private offset = 0;
  private lines = 0;
  private live = 0;

  constructor(
    private readonly root: string,
    private readonly fromRecords: () => Edges,
  ) {}

  /** Before the child's record is written. */
  add(parent: string, child: string): void {
    this.append("+", parent, child);
  }

  /**
   * After the child's record is removed. Never throws: the snapshot is gone either way, and an edge
   * left behind only makes the caller read that child's record once more.
   */
  delete(parent: string, child: string): void {
    try {
      this.append("-", parent, child);
    } catch {
      // see above
    }
  }

  /** The children `parent` may have: every one it has, and maybe some removed since (check them). */
  childrenOf(parent: string): string[] {
    this.sync();
    this.compactIfSparse();
    return [...(this.edges.get(parent) ?? [])];
  }

  private append(op: Op, parent: string, child: string): void {
    const text = formatLine(op, parent, child);
    const buf = Buffer.from(text);
    if (this.fd === undefined) {
      this.appendUnread(op, buf);
      return;
    }
    const size = this.sync();
    // Past the last whole line there can only be a torn one: cut it, so as not to run into it.
    if (size > this.offset) ftruncateSync(this.fd!, this.offset);
    writeLine(this.fd!, buf);
    this.apply(text.slice(0, -1));
    this.offset += buf.length;
  }

  /** An append by a process that never read the log (a build): open, write, close. */
  private appendUnread(op: Op, buf: Buffer): void {
    let fd = openOrUndefined(this.root);
    if (fd === undefined) {
      // A "-" needs no log: the one rebuilt from the records later lacks the edge already.
      if (op === "-") return;
      writeChildrenLog(this.root, this.fromRecords());
      fd = openChildrenLog(this.root);
    }
    let size: number;
    try {
      size = endOnNewline(fd) + buf.length;
      writeLine(fd, buf);
    } finally {
      closeSync(fd);
    }
    if (size > CHECK_BYTES) {
      this.sync();
      this.compactIfSparse();
    }
  }

  /** Brings the edges up to the end of the log; returns its size. */
  private sync(): number {
    for (let attempt = 0; ; attempt++) {
      const st = statOrUndefined(childrenLogPath(this.root));
      if (st && this.fd !== undefined && st.ino === this.ino && st.size >= this.offset) {
        this.readTail(st.size);
        return st.size;
      }
      this.forget();
      const fd = st && openOrUndefined(this.root);
      const start = fd === undefined ? undefined : linesStart(fd);
      if (fd === undefined || start === undefined) {
        if (fd !== undefined) closeSync(fd);
        if (attempt > 0) throw new Error(`${childrenLogPath(this.root)}: unreadable after a rebuild`);
        writeChildrenLog(this.root, this.fromRecords());
        continue;
      }
      const now = fstatSync(fd);
      [this.fd, this.ino, this.offset] = [fd, now.ino, start];
      this.readTail(now.size);
      return now.size;
    }
  }

  private forget(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.edges.clear();
    this.lines = 0;
    this.live = 0;
  }

  private readTail(size: number): void {
    if (size <= this.offset) return;
    const buf = readAt(this.fd!, size - this.offset, this.offset);
    // Whole lines only: a torn one is cut by the next append.
    const end = buf.lastIndexOf(0x0a) + 1;
    for (const text of buf.toString("utf8", 0, end).split("\n")) if (text) this.apply(text);
    this.offset += end;
  }

  private apply(text: string): void {
    this.lines++;
    const parsed = parseLine(text);
    if (!parsed) return; // not a line this code writes: skipped, like a torn record
    const [op, parent, child] = parsed;
    let children = this.edges.get(parent);
    if (op === "+") {
      if (!children) this.edges.set(parent, (children = new Set()));
      if (!children.has(child)) this.live++;
      children.add(child);
    } else if (children?.delete(child)) {
      this.live--;
      if (children.size === 0) this.edges.delete(parent);
    }
  }

  /** Rewrites the log with the edges in memory when most of its lines are of edges gone since. */
  private compactIfSparse(): void {
    if (this.lines <= 2 * this.live + COMPACT_SLACK) return;
    const edges = [...this.edges].flatMap(([parent, children]) =>
      [...children].map((child) => [parent, child] as const),
    );
    writeChildrenLog(this.root, edges);
    closeSync(this.fd!);
    const fd = openChildrenLog(this.root);
    const now = fstatSync(fd);
    [this.fd, this.ino, this.offset, this.lines] = [fd, now.ino, now.size, this.live];
  }
}
