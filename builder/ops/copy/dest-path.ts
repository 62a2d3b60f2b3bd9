import { chmodSync, lchownSync, mkdirSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { BuildStepError } from "../../../src/errors.js";
import type { Owner } from "../../context/chown.js";
import { lstatIfExists } from "../../context/lstat-if-exists.js";

/** A destination path as the image sees it ("/app/x"), for error messages. */
export function showInRoot(root: string, abs: string): string {
  return `/${relative(root, abs).split(sep).join("/")}`;
}

/**
 * Creates the missing directories from `root` down to `abs` (which resolveInRoot produced, so existing
 * components are real directories), as BuildKit's MkdirAll does: mode 0755 whatever the umask, owned by
 * the --chown owner when given, else root. Refuses a component that exists and is not a directory.
 */
export function mkdirInRoot(root: string, abs: string, owner: Owner = { uid: 0, gid: 0 }): void {
  let current = root;
  for (const part of relative(root, abs).split(sep)) {
    if (part === "") continue;
    current = join(current, part);
    const st = lstatIfExists(current);
    if (st?.isDirectory()) continue;
    if (st) throw new BuildStepError(`cannot create directory ${showInRoot(root, current)}: not a directory`);
    mkdirSync(current);
    lchownSync(current, owner.uid, owner.gid);
    chmodSync(current, 0o755);
  }
}
