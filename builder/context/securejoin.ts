import { lstatSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { BuildStepError } from "../../src/errors.js";

/** Linux gives up after 40 links in one lookup; a little more slack costs nothing and still stops loops. */
const MAX_SYMLINKS = 255;

export interface ResolveOptions {
  /**
   * Follow a symlink in the last component too (default true). False resolves only the parents, so the
   * result names the link itself: what a copy needs to copy links as links.
   */
  followFinal?: boolean;
  /**
   * What a `..` above the root does: "clamp" stays at the root, as a chroot would (image rootfs);
   * "error" refuses it (build context: a source must not reach out of the context).
   */
  onEscape?: "clamp" | "error";
  /** How the root is called in error messages, e.g. "build context". */
  rootName?: string;
}

/**
 * Resolves `unsafePath` as if `root` were `/`, like Go's securejoin: every symlink met on the way is
 * followed inside the root (absolute targets restart at the root, `..` never climbs above it), so the
 * result is always `root` or a path below it. Components that do not exist are joined lexically.
 */
export function resolveInRoot(root: string, unsafePath: string, opts: ResolveOptions = {}): string {
  const followFinal = opts.followFinal ?? true;
  const pending = splitComponents(unsafePath);
  const resolved: string[] = [];
  let linksFollowed = 0;

  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === "..") {
      if (resolved.length === 0) {
        if (opts.onEscape === "error") {
          throw new BuildStepError(`${unsafePath}: path escapes the ${opts.rootName ?? "root"}`);
        }
        continue;
      }
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    const isLast = pending.length === 0;
    const target = isLast && !followFinal ? undefined : readSymlink(candidate);
    if (target === undefined) {
      resolved.push(part);
      continue;
    }
    if (++linksFollowed > MAX_SYMLINKS) {
      throw new BuildStepError(`${unsafePath}: too many levels of symbolic links`);
    }
    if (target.startsWith("/")) resolved.length = 0;
    pending.unshift(...splitComponents(target));
  }
  return join(root, ...resolved);
}

/** The path's components without empty and "." ones; ".." stays, since it depends on what was resolved. */
function splitComponents(p: string): string[] {
  return p.split("/").filter((c) => c !== "" && c !== ".");
}

/** The link's target, or undefined when the path is not a symlink or does not exist. */
function readSymlink(path: string): string | undefined {
  try {
    if (!lstatSync(path).isSymbolicLink()) return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw err;
  }
  return readlinkSync(path);
}
