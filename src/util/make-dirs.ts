// Creating a directory and its missing parents one component at a time. Node 20's
// mkdirSync({ recursive: true }) loops forever on some paths (/proc/x: the child's ENOENT sends it back
// to the parent, which exists) and reports a file in the way only as a bare ENOTDIR; this fails at once
// and names the component.
import { mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { systemFailure, TsbuildError, UsageError } from "../errors.js";

const WHY: Record<string, string> = {
  ENOTDIR: "a parent is not a directory",
  ENOENT: "its parent does not take new directories",
  EACCES: "permission denied",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
};

function why(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return (code && WHY[code]) ?? code ?? (err as Error).message;
}

/**
 * Makes `dir` (absolute) exist as a directory. `what` names it in the error ("store /x"); the error is
 * a UsageError (the path came from the user: TSBUILD_ROOT, a flag), unless the disk failed.
 */
export function makeDirs(dir: string, what: string, mode = 0o755): void {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    let isDir: boolean;
    try {
      isDir = statSync(d).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && dirname(d) !== d) {
        missing.push(d);
        continue;
      }
      throw new UsageError(`${what}: cannot use ${d}: ${why(err)}`, { cause: err });
    }
    if (!isDir) throw new UsageError(`${what}: ${d} is not a directory`);
    break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, mode);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST" && statSync(d).isDirectory()) continue; // made by a concurrent opener
      // A full or failing disk is the machine's failure (exit 1), not a bad path (exit 2).
      const Class = systemFailure(err) ? TsbuildError : UsageError;
      throw new Class(`${what}: cannot create ${d}: ${why(err)}`, { cause: err });
    }
  }
}
