import { lstatDir } from "../../native/index.js";
import { FileStat } from "../../native/file-stat.js";
import { joinRel, type PathFilter } from "./path-filter.js";

/** One entry below a walked directory. */
export interface TreeEntry {
  /** Path relative to the walked directory, "/"-separated. */
  rel: string;
  abs: string;
  /** lstat: symlinks are entries, never followed. */
  stat: FileStat;
}

/**
 * Lists everything below `dirAbs` that the filter keeps (paths given to it are relative to `dirAbs`), in a
 * stable order: sorted by name, each directory before its contents. An excluded directory is still walked
 * when the filter says something inside may be re-included; it is then listed only if something was, as
 * BuildKit's context transfer creates the parents of re-included files.
 * Each directory is listed and lstat'ed in one native call: lstatSync costs ~6 us and a Stats object
 * per file, which made a 2,000-file context's no-change rebuild ~40 % walk.
 */
export function walkTree(dirAbs: string, filter?: PathFilter): TreeEntry[] {
  const out: TreeEntry[] = [];
  walkInto(dirAbs, "", filter, out);
  return out;
}

/** Appends the kept entries below one directory; returns whether it appended any. */
function walkInto(dirAbs: string, dirRel: string, filter: PathFilter | undefined, out: TreeEntry[]): boolean {
  const before = out.length;
  const { names, fields } = lstatDir(dirAbs);
  const order = names.map((_, i) => i).sort((a, b) => compareStrings(names[a]!, names[b]!));
  for (const i of order) {
    const name = names[i]!;
    const rel = joinRel(dirRel, name);
    const abs = dirAbs.endsWith("/") ? dirAbs + name : `${dirAbs}/${name}`;
    const stat = FileStat.at(fields, i);
    const excluded = filter?.matches(rel) ?? false;
    if (!stat.isDirectory()) {
      if (!excluded) out.push({ rel, abs, stat });
      continue;
    }
    if (excluded && !filter!.mayContainIncluded(rel)) continue;
    const at = out.length;
    out.push({ rel, abs, stat });
    if (!walkInto(abs, rel, filter, out) && excluded) out.length = at;
  }
  return out.length > before;
}

/** The order of Array.prototype.sort() without a comparator (UTF-16 code units). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
