#!/usr/bin/env node
// Lists the longest functions of the sources, TypeScript and C alike, longest first:
//   node scripts/longest-functions.mjs [--top N] [--max LINES] [DIR...]
// A function's length is its whole span in lines, from its first line to its closing brace, nested
// functions included (a long function made of closures is still a long function). With --max it exits
// 1 when any function is longer, listing those: `npm run lint` runs it with --max 80.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

const DEFAULT_DIRS = ["src", "builder", "snapshotter", "native", "cli"];

function parseArgs(argv) {
  const opts = { top: 20, max: undefined, dirs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--top") opts.top = Number(argv[++i]);
    else if (a === "--max") opts.max = Number(argv[++i]);
    else if (a === "-h" || a === "--help") {
      process.stdout.write("usage: longest-functions.mjs [--top N] [--max LINES] [DIR...]\n");
      process.exit(0);
    } else opts.dirs.push(a);
  }
  if (opts.dirs.length === 0) opts.dirs = DEFAULT_DIRS;
  return opts;
}

function* sourceFiles(dir) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return; // a folder this checkout does not have
  }
  for (const name of names.sort()) {
    if (name === "node_modules" || name === "build" || name === "dist") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|c)$/.test(name) && !name.endsWith(".d.ts")) yield path;
  }
}

/** Function-like nodes of a TypeScript file, each with its name and line span. */
function typescriptFunctions(path) {
  const text = readFileSync(path, "utf8");
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const out = [];
  const lineOf = (pos) => file.getLineAndCharacterOfPosition(pos).line + 1;
  const nameOf = (node) => {
    if (node.name && ts.isIdentifier(node.name)) return node.name.text;
    if (ts.isConstructorDeclaration(node)) return "constructor";
    const parent = node.parent;
    if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
    if (parent && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
    if (parent && ts.isPropertyDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
    return "(anonymous)";
  };
  const visit = (node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const start = lineOf(node.getStart(file));
      const end = lineOf(node.getEnd());
      out.push({ path, name: nameOf(node), start, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

/**
 * Function definitions of a C file: a top-level brace block whose header has a parameter list and no
 * `=` (which would make it an initializer). Comments, strings and character literals are skipped.
 */
function cFunctions(path) {
  const text = readFileSync(path, "utf8");
  const out = [];
  let depth = 0;
  let line = 1;
  let header = "";
  let current;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") line++;
    if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? text.length : end + 2;
      for (let j = i; j < stop; j++) if (text[j] === "\n") line++;
      i = stop - 1;
      continue;
    }
    if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      i = (end < 0 ? text.length : end) - 1;
      continue;
    }
    if (c === '"' || c === "'") {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === "\\") i++;
      continue;
    }
    if (depth === 0 && c === "#") {
      // A preprocessor line (continuations included) is never a function header.
      while (i < text.length && !(text[i] === "\n" && text[i - 1] !== "\\")) i++;
      line++;
      header = "";
      continue;
    }
    if (c === "{") {
      if (depth === 0) {
        const m = /([A-Za-z_]\w*)\s*\([^;=]*\)\s*$/.exec(header);
        current = m && !header.includes("=") ? { path, name: m[1], start: line } : undefined;
      }
      depth++;
    } else if (c === "}") {
      depth--;
      if (depth === 0) {
        if (current) out.push({ ...current, lines: line - current.start + 1 });
        current = undefined;
        header = "";
      }
    } else if (depth === 0) {
      header = c === ";" ? "" : header + c;
    }
  }
  return out;
}

const opts = parseArgs(process.argv.slice(2));
const all = [];
for (const dir of opts.dirs) {
  for (const path of sourceFiles(dir))
    all.push(...(path.endsWith(".c") ? cFunctions(path) : typescriptFunctions(path)));
}
all.sort((a, b) => b.lines - a.lines || (a.path < b.path ? -1 : 1));
const show = (f) =>
  `${String(f.lines).padStart(5)}  ${relative(process.cwd(), f.path)}:${f.start}  ${f.name}`;
if (opts.max !== undefined) {
  const over = all.filter((f) => f.lines > opts.max);
  if (over.length > 0) {
    process.stderr.write(`functions over ${opts.max} lines:\n${over.map(show).join("\n")}\n`);
    process.exit(1);
  }
  process.stdout.write(
    `no function over ${opts.max} lines (${all.length} functions; longest ${all[0]?.lines ?? 0})\n`,
  );
} else {
  process.stdout.write(`${all.slice(0, opts.top).map(show).join("\n")}\n`);
}
