import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** A file tree for tests: a string is a file's content, `{ symlink }` a link, `{ dir: true }` an empty dir. */
export type TreeSpec = Record<string, string | { symlink: string } | { dir: true }>;

export function makeTree(root: string, spec: TreeSpec): void {
  for (const [rel, what] of Object.entries(spec)) {
    const abs = join(root, rel);
    mkdirSync(dirname(abs), { recursive: true });
    if (typeof what === "string") writeFileSync(abs, what);
    else if ("symlink" in what) symlinkSync(what.symlink, abs);
    else mkdirSync(abs, { recursive: true });
  }
}

/** A fresh temp dir and its cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `tsbuild-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
