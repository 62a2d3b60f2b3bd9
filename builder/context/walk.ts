import { type BigIntStats, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { joinRel, type PathFilter } from "./path-filter.js";

/** One entry below a walked directory. */
export interface TreeEntry {
  /** Path relative to the walked directory, "/"-separated. */
  rel: string;
  abs: string;
  /** lstat: symlinks are entries, never followed. bigint for exact inode and nanosecond times. */
  stat: BigIntStats;
}

/**
 * Lists everything below `dirAbs` that the filter keeps (paths given to it are relative to `dirAbs`), in a
 * stable order: sorted by name, each directory before its contents. An excluded directory is still walked
 * when the filter says something inside may be re-included; it is then listed only if something was, as
 * BuildKit's context transfer creates the parents of re-included files.
 * Sync on purpose: small-file stats are faster without threadpool hops on this machine (NOTES).
 */
export function walkTree(dirAbs: string, filter?: PathFilter): TreeEntry[] {
  const out: TreeEntry[] = [];
  walkInto(dirAbs, "", filter, out);
  return out;
}

/** Appends the kept entries below one directory; returns whether it appended any. */
function walkInto(dirAbs: string, dirRel: string, filter: PathFilter | undefined, out: TreeEntry[]): boolean {
  const before = out.length;
  for (const name of readdirSync(dirAbs).sort()) {
    const rel = joinRel(dirRel, name);
    const abs = join(dirAbs, name);
    const stat = lstatSync(abs, { bigint: true });
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
