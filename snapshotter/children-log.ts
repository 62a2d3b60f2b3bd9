import { constants, fstatSync, ftruncateSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../src/util/atomic.js";

// The file behind the parent → children index (children.ts): snapshots/children.log, a header line,
// then "+ parent child" and "- parent child" lines, keys URI-encoded so that neither holds a space
// or a newline. Lines are appended, one write(2) each; the file is only ever replaced whole, by
// temp + fsync + rename.
//
// Appends are not fsynced: a power cut may lose the tail while the child's record, which is durable,
// survives. So the header names the boot it was written in, and a log from an earlier boot is
// rebuilt from the records before it is trusted: the owner files that make open() recover after a
// crash are not fsynced either, and may be lost in the same power cut.

export const CHILDREN_LOG = "children.log";
/** Parent → child pairs. */
export type Edges = Iterable<readonly [string, string]>;
export type Op = "+" | "-";

const HEADER = /^# tsbuild snapshot children v1 boot (\S+)$/;
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

export function childrenLogPath(root: string): string {
  return join(root, CHILDREN_LOG);
}

export function formatLine(op: Op, parent: string, child: string): string {
  return `${op} ${encodeURIComponent(parent)} ${encodeURIComponent(child)}\n`;
}

/** A line (without its newline) as [op, parent, child], or undefined for one this code did not write. */
export function parseLine(text: string): [Op, string, string] | undefined {
  const m = /^([+-]) (\S+) (\S+)$/.exec(text);
  if (!m) return undefined;
  try {
    return [m[1] as Op, decodeURIComponent(m[2]!), decodeURIComponent(m[3]!)];
  } catch {
    return undefined;
  }
}

/** Replaces the log with exactly `edges`, durably. Call with the snapshots lock held. */
export function writeChildrenLog(root: string, edges: Edges): void {
  const parts = [`# tsbuild snapshot children v1 boot ${bootId()}\n`];
  for (const [parent, child] of edges) parts.push(formatLine("+", parent, child));
  writeFileAtomic(childrenLogPath(root), parts.join(""));
}

/** Opens the log for reading and appending; ENOENT when there is none. */
export function openChildrenLog(root: string): number {
  return openSync(childrenLogPath(root), constants.O_RDWR | constants.O_APPEND);
}

export function readAt(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.alloc(length);
  let n = 0;
  while (n < length) {
    const got = readSync(fd, buf, n, length - n, position + n);
    if (got === 0) break;
    n += got;
  }
  return buf.subarray(0, n);
}

/**
 * Where the lines start, if the file starts with the header of a log written in this boot; else
 * undefined, and the log must be rebuilt from the records before it is read.
 */
export function linesStart(fd: number): number | undefined {
  const head = readAt(fd, HEADER_MAX, 0);
  const nl = head.indexOf(0x0a);
  if (nl < 0) return undefined;
  return HEADER.exec(head.toString("utf8", 0, nl))?.[1] === bootId() ? nl + 1 : undefined;
}

/**
 * Cuts off a torn last line (a write cut short: a full disk, a crash) so that the next line starts
 * on a line of its own, instead of running into it and being misread. Returns the size after.
 */
export function endOnNewline(fd: number): number {
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
