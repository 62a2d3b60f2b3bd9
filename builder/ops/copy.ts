import { dirname, join, posix } from "node:path";
import { BuildStepError } from "../../src/errors.js";
import type { Owner } from "../context/chown.js";
import { excludeFilter } from "../context/exclude-filter.js";
import { lstatIfExists } from "../context/lstat-if-exists.js";
import type { PathFilter } from "../context/path-filter.js";
import { resolveInRoot } from "../context/securejoin.js";
import {
  type SelectedSource,
  type SourceKind,
  selectSources,
  sourceSelectOptions,
} from "../context/sources.js";
import { parseChmod } from "./chmod.js";
import { mkdirInRoot } from "./copy/dest-path.js";
import { EntryWriter } from "./copy/entry-writer.js";

export interface CopyIntoRootOptions {
  /** The build context, a named context dir, or another stage's rootfs (read-only). */
  sourceRoot: string;
  /** .dockerignore of the build context. */
  matcher?: PathFilter;
  /** Source patterns as in the Dockerfile, already expanded. */
  sources: string[];
  /** Destination, already expanded; relative ones are joined to `workdir`. A trailing "/" means a directory. */
  dest: string;
  workdir: string;
  /** The new layer's mounted rootfs; its own symlinks are resolved inside it. */
  destRoot: string;
  chown?: Owner;
  /** Octal or symbolic, e.g. "755", "u+x,g=r". */
  chmod?: string;
  /** `--exclude` patterns, .dockerignore syntax relative to each source. */
  excludes?: string[];
  /** Follow a symlink named by a source itself (default: copy the link). */
  followSymlinksInSource?: boolean;
  /**
   * "context" (default, also named contexts): copies are owned by root, paths may not leave the root.
   * "rootfs" (COPY --from a stage): copies keep their owners, the root behaves like a chroot.
   */
  sourceKind?: SourceKind;
  /**
   * `COPY --parents`: each source keeps its path (relative to the source root, or to the part of the
   * pattern after a `/./` pivot) under the destination directory, instead of only its base name.
   */
  parents?: boolean;
  /**
   * ADD: offered each non-directory source first, with the destination (always a directory for an
   * archive); returns true when it extracted the source there, so it is not copied.
   */
  unpack?: (sourceAbs: string, sourceRel: string, destAbs: string) => Promise<boolean>;
}

/**
 * COPY/ADD of local files with Docker/BuildKit semantics: wildcards, a directory source copies its
 * contents, several sources need a directory destination, missing parents are created (0755, owned by
 * the --chown owner or root), modes and mtimes kept unless --chmod, links copied as links.
 */
export async function copyIntoRoot(opts: CopyIntoRootOptions): Promise<{ files: number; bytes: number }> {
  const kind = opts.sourceKind ?? "context";
  const mode = opts.chmod === undefined ? undefined : parseChmod(opts.chmod);
  const selected = selectSources(opts.sourceRoot, opts.sources, {
    ...sourceSelectOptions(kind),
    ignore: opts.matcher,
    exclude: excludeFilter(opts.excludes),
    followSymlinks: opts.followSymlinksInSource,
  });

  const destPath = posix.isAbsolute(opts.dest) ? opts.dest : posix.join("/", opts.workdir, opts.dest);
  const destAbs = resolveInRoot(opts.destRoot, destPath);
  const destStat = lstatIfExists(destAbs);
  const destIsDir = endsAsDirectory(opts.dest) || destStat?.isDirectory() === true;
  if ((selected.length > 1 || opts.parents) && !destIsDir) {
    throw new BuildStepError(
      `When using COPY with more than one source file, the destination must be a directory and end with a /: ${opts.dest}`,
    );
  }

  const writer = new EntryWriter({
    destRoot: opts.destRoot,
    owner: opts.chown,
    keepOwnership: kind === "rootfs",
    mode,
  });
  for (const src of selected) {
    const kept = opts.parents ? keptParents(src) : "";
    if (src.stat.isDirectory()) {
      const dirAbs = join(destAbs, kept);
      mkdirInRoot(opts.destRoot, dirAbs, opts.chown);
      for (const e of src.entries) writer.write(e.abs, e.stat, join(dirAbs, e.rel));
      continue;
    }
    if (opts.unpack && src.stat.isFile() && (await opts.unpack(src.abs, src.rel, destAbs))) continue;
    const target = opts.parents ? join(destAbs, kept) : destIsDir ? join(destAbs, src.name) : destAbs;
    mkdirInRoot(opts.destRoot, dirname(target), opts.chown);
    writer.write(src.abs, src.stat, target);
  }
  writer.finish();
  return { files: writer.files, bytes: writer.bytes };
}

/** The path a `--parents` source keeps: its path from the root, or from a `/./` pivot in its pattern. */
function keptParents(src: SelectedSource): string {
  const pivot = src.pattern.indexOf("/./");
  if (pivot < 0) return src.rel;
  const base = posix.normalize(src.pattern.slice(0, pivot)).replace(/^\/+/, "");
  return posix.relative(base === "." ? "" : base, src.rel);
}

/** "dir/", "." and "dir/." name a directory even when it does not exist yet. */
function endsAsDirectory(dest: string): boolean {
  return dest.endsWith("/") || dest === "." || dest.endsWith("/.");
}
