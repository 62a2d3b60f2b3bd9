// COPY/ADD <<EOF heredoc sources: each body becomes a file named after its delimiter, 0644 as in BuildKit.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ShellLex } from "../../dockerfile/shell.js";
import type { EnvLookup, Heredoc } from "../../dockerfile/types.js";

/** BuildKit expands heredoc bodies with a `\` lexer that keeps quotes literally (SkipProcessQuotes). */
const lex = new ShellLex("\\");

/**
 * Our lexer always processes quotes, so unescaped quotes are escaped first: the lexer then yields them
 * literally, while `\$`, `\\` and variables behave as in BuildKit.
 */
function keepQuotes(body: string): string {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === "\\" && i + 1 < body.length) {
      out += ch + body[++i];
    } else out += ch === '"' || ch === "'" ? `\\${ch}` : ch;
  }
  return out;
}

export interface HeredocFile {
  name: string;
  content: string;
}

/** The files the heredocs make: bodies expanded with the stage's env unless the delimiter was quoted. */
export function heredocFiles(heredocs: Heredoc[], env: EnvLookup): HeredocFile[] {
  return heredocs.map((h) => ({
    name: h.name,
    content: h.expand ? lex.processWord(keepQuotes(h.content), env) : h.content,
  }));
}

/** Writes the files to a fresh temp dir (a source root for copyIntoRoot); remove() deletes it. */
export function writeHeredocDir(files: HeredocFile[]): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-heredoc-"));
  for (const f of files) writeFileSync(join(dir, f.name), f.content, { mode: 0o644 });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
