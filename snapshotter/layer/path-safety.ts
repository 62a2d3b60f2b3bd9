import { TsbuildError } from "../../src/errors.js";

export const WHITEOUT_PREFIX = ".wh.";
export const OPAQUE_MARKER = ".wh..wh..opq";

/**
 * Checks a path that is about to go into a layer: relative, normalized, no ".." and no name that
 * readers would take for a whiteout. Returns it unchanged.
 */
export function checkLayerPath(path: string, allowWhiteoutBase = false): string {
  const parts = path.split("/");
  if (path === "" || path.startsWith("/")) {
    throw new TsbuildError(`layer entry ${JSON.stringify(path)}: not a relative path`);
  }
  for (const [i, part] of parts.entries()) {
    if (part === "" || part === "." || part === "..") {
      throw new TsbuildError(`layer entry ${JSON.stringify(path)}: not a normalized path inside the root`);
    }
    if (part.startsWith(WHITEOUT_PREFIX) && !(allowWhiteoutBase && i === parts.length - 1)) {
      throw new TsbuildError(
        `layer entry ${JSON.stringify(path)}: names starting with ${WHITEOUT_PREFIX} are reserved for whiteouts`,
      );
    }
  }
  return path;
}

/** "a/b/c" → ["a/b", "c"]; "c" → ["", "c"]. */
export function splitPath(path: string): [string, string] {
  const i = path.lastIndexOf("/");
  return i === -1 ? ["", path] : [path.slice(0, i), path.slice(i + 1)];
}

export function joinPath(dir: string, base: string): string {
  return dir === "" ? base : `${dir}/${base}`;
}
