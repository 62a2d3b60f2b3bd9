import { type Dirent, readdirSync } from "node:fs";
import type { FileStat } from "../../native/file-stat.js";
import { join, relative, sep } from "node:path";
import { BuildStepError } from "../../src/errors.js";
import { compileComponent, splitAtFirstWildcard } from "./glob.js";
import { lstatIfExists } from "./lstat-if-exists.js";
import { combineFilters, filterBelow, joinRel, type PathFilter } from "./path-filter.js";
import { resolveInRoot } from "./securejoin.js";
import { compareStrings, type TreeEntry, walkTree } from "./walk.js";

/** Where sources come from: the build context (or a named context dir), or another stage's rootfs. */
export type SourceKind = "context" | "rootfs";

/** How each kind of source root treats escapes, and how errors call it. */
export function sourceSelectOptions(kind: SourceKind): Pick<SelectOptions, "onEscape" | "rootName"> {
  return kind === "context"
    ? { onEscape: "error", rootName: "build context" }
    : { onEscape: "clamp", rootName: "source stage" };
}

export interface SelectOptions {
  /** .dockerignore of the build context; patterns relative to the root. */
  ignore?: PathFilter;
  /** `COPY --exclude`; patterns relative to each selected source. */
  exclude?: PathFilter;
  /** Follow a symlink named by the source itself (its parents are always resolved inside the root). */
  followSymlinks?: boolean;
  /**
   * The build context refuses paths that climb out of it ("error", the default); a stage's rootfs behaves
   * like a chroot ("clamp").
   */
  onEscape?: "error" | "clamp";
  /** For error messages, e.g. "build context" or "stage build". */
  rootName?: string;
}

/** One path a source pattern selected, with everything below it that is copied. */
export interface SelectedSource {
  /** The pattern as written in the Dockerfile. */
  pattern: string;
  /** Where it is, relative to the source root ("" = the root). */
  rel: string;
  abs: string;
  /** The name a non-directory takes inside a directory destination. */
  name: string;
  stat: FileStat;
  /** For a directory, its contents (what COPY copies); empty otherwise. */
  entries: TreeEntry[];
}

/**
 * Expands COPY/ADD source patterns in a source root the way BuildKit does: Go wildcards, .dockerignore'd
 * paths invisible (except directories that hold re-included files), symlinks resolved inside the root.
 * The hasher and the copier both use this, so the cache key covers exactly what is copied.
 */
export function selectSources(root: string, patterns: string[], opts: SelectOptions = {}): SelectedSource[] {
  const out: SelectedSource[] = [];
  for (const pattern of patterns) out.push(...selectOne(root, pattern, opts));
  return out;
}

function selectOne(root: string, pattern: string, opts: SelectOptions): SelectedSource[] {
  const rootName = opts.rootName ?? "build context";
  const components = cleanComponents(pattern, opts.onEscape ?? "error", rootName);
  const { literal, wild } = splitAtFirstWildcard(components);
  if (wild.length === 0) {
    const selected = selectPath(root, pattern, literal.join("/"), literal.at(-1) ?? ".", opts);
    if (!selected) {
      const ignored = opts.ignore ? " or excluded by .dockerignore" : "";
      throw new BuildStepError(
        `file not found in ${rootName}${ignored}: stat ${pattern}: no such file or directory`,
      );
    }
    return [selected];
  }

  const base = resolveInRoot(root, literal.join("/"), { onEscape: opts.onEscape, rootName });
  const matches: SelectedSource[] = [];
  for (const matchRel of globBelow(root, base, wild, pattern, opts.ignore)) {
    const fromBase = relative(base, join(root, matchRel)).split(sep).join("/");
    if (opts.exclude?.matches(fromBase)) continue;
    const selected = selectPath(root, pattern, matchRel, matchRel.slice(matchRel.lastIndexOf("/") + 1), opts);
    if (selected) matches.push(selected);
  }
  if (matches.length === 0) {
    throw new BuildStepError(
      `no source files were specified: ${JSON.stringify(pattern)} matches nothing in the ${rootName}`,
    );
  }
  return matches;
}

/** The pattern's components after lexical cleaning; a leading "/" means the root. */
function cleanComponents(pattern: string, onEscape: "error" | "clamp", rootName: string): string[] {
  const out: string[] = [];
  for (const c of pattern.split("/")) {
    if (c === "" || c === ".") continue;
    if (c !== "..") out.push(c);
    else if (out.length > 0) out.pop();
    else if (onEscape === "error") {
      throw new BuildStepError(`forbidden path outside the ${rootName}: ${pattern}`);
    }
  }
  return out;
}

/** Resolves one concrete path; undefined when it does not exist or the ignore file hides it. */
function selectPath(
  root: string,
  pattern: string,
  path: string,
  name: string,
  opts: SelectOptions,
): SelectedSource | undefined {
  const abs = resolveInRoot(root, path, {
    followFinal: opts.followSymlinks ?? false,
    onEscape: opts.onEscape,
    rootName: opts.rootName ?? "build context",
  });
  const stat = lstatIfExists(abs);
  if (!stat) return undefined;
  const rel = relative(root, abs).split(sep).join("/");
  const ignore = opts.ignore && filterBelow(opts.ignore, rel);
  if (rel !== "" && opts.ignore?.matches(rel)) {
    const holdsIncluded =
      stat.isDirectory() && opts.ignore.mayContainIncluded(rel) && walkTree(abs, ignore).length > 0;
    if (!holdsIncluded) return undefined;
  }
  const entries = stat.isDirectory() ? walkTree(abs, combineFilters([ignore, opts.exclude])) : [];
  return { pattern, rel, abs, name, stat, entries };
}

/** Paths (relative to root) below `base` matching the wildcard components, sorted; only real dirs are entered. */
function globBelow(
  root: string,
  base: string,
  wild: string[],
  pattern: string,
  ignore: PathFilter | undefined,
): string[] {
  let dirs = [relative(root, base).split(sep).join("/")];
  for (let i = 0; i < wild.length; i++) {
    const re = compileComponent(wild[i]!, pattern);
    const last = i === wild.length - 1;
    const next: string[] = [];
    for (const dirRel of dirs) {
      const names = listDir(join(root, dirRel)).filter((d) => re.test(d.name));
      for (const d of names.sort((a, b) => compareStrings(a.name, b.name))) {
        const rel = joinRel(dirRel, d.name);
        if (!last && !d.isDirectory()) continue;
        // Excluded intermediate dirs matter only if they may hold re-included files; final matches are
        // checked by selectPath, which knows whether an excluded directory holds any.
        if (!last && ignore?.matches(rel) && !ignore.mayContainIncluded(rel)) continue;
        next.push(rel);
      }
    }
    dirs = next;
  }
  return dirs;
}

/** A directory's entries; none when the base of a pattern does not exist or is not a directory. */
function listDir(dirAbs: string): Dirent[] {
  try {
    return readdirSync(dirAbs, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw err;
  }
}
