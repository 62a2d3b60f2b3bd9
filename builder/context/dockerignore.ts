// .dockerignore: which file applies, how it is read, and Docker's pattern semantics
// (moby/patternmatcher, as BuildKit uses it), not gitignore's. See
// shared/conformance/README.md §4.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * The ignore file's patterns: `<Dockerfile>.dockerignore` beside the Dockerfile wins over the
 * context's `.dockerignore`, and that over its `.containerignore` (buildah's and podman's name).
 */
export function readIgnoreFile(contextDir: string, dockerfilePath?: string): string[] {
  const candidates = [
    ...(dockerfilePath ? [`${path.resolve(contextDir, dockerfilePath)}.dockerignore`] : []),
    path.join(contextDir, ".dockerignore"),
    path.join(contextDir, ".containerignore"),
  ];
  const found = candidates.find((file) => existsSync(file));
  if (!found) return [];
  try {
    return parseIgnorePatterns(readFileSync(found, "utf8"));
  } catch (e) {
    throw new Error(`${found}: ${(e as Error).message}`, { cause: e });
  }
}

/** Already what cleanPath returns: relative, no empty, "." or ".." segment (the walker's paths). */
const CLEAN_RELATIVE = /^(?!\.\.?(?:\/|$))[^/]+(?:\/(?!\.\.?(?:\/|$))[^/]+)*$/;

/** Lexical path cleaning (Go's path.Clean), with "" for an empty result. */
function cleanPath(p: string): string {
  if (CLEAN_RELATIVE.test(p)) return p;
  const absolute = p.startsWith("/");
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
    } else out.push(seg);
  }
  const joined = out.join("/");
  if (absolute) return `/${joined}`;
  return joined === "" ? "." : joined;
}

/** One pattern per line, "!" kept as the first character of exceptions. */
export function parseIgnorePatterns(text: string): string[] {
  const patterns: string[] = [];
  const body = text.startsWith("\ufeff") ? text.slice(1) : text;
  for (const raw of body.split(/\r?\n/)) {
    if (raw.startsWith("#")) continue;
    let pattern = raw.trim();
    if (pattern === "") continue;
    const exception = pattern.startsWith("!");
    if (exception) {
      pattern = pattern.slice(1).trim();
      if (pattern === "") throw new Error('illegal exclusion pattern: "!"');
    }
    pattern = cleanPath(pattern);
    if (pattern.length > 1 && pattern.startsWith("/")) pattern = pattern.slice(1);
    patterns.push(exception ? `!${pattern}` : pattern);
  }
  return patterns;
}

const REGEXP_LITERALS = new Set([".", "+", "(", ")", "|", "{", "}", "$"]);

/** Compiles a cleaned pattern to an anchored RegExp over "/"-separated relative paths. */
function compilePattern(pattern: string): RegExp {
  const chars = Array.from(pattern);
  let re = "^";
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === "*" && chars[i + 1] === "*") {
      i++;
      if (chars[i + 1] === "/") i++;
      // "**" at the end matches everything below; elsewhere any number of directories, even none.
      re += i + 1 === chars.length ? ".*" : "(.*/)?";
    } else if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else if (REGEXP_LITERALS.has(ch)) re += `\\${ch}`;
    else if (ch === "\\") re += i + 1 < chars.length ? `\\${chars[++i]}` : "\\\\";
    else re += ch;
  }
  return new RegExp(`${re}$`, "s");
}

interface CompiledPattern {
  source: string;
  exception: boolean;
  re: RegExp;
}

/** Wildcards anywhere but a trailing "/*" or "/**" mean an exception may match at any depth. */
function hasWildcards(pattern: string): boolean {
  return /[*?[\\]/.test(pattern.replace(/\/\*\*?$/, ""));
}

export class PatternMatcher {
  private readonly patterns: CompiledPattern[];

  constructor(patterns: string[]) {
    this.patterns = patterns.map((p) => {
      const exception = p.startsWith("!");
      const source = exception ? p.slice(1) : p;
      return { source, exception, re: compilePattern(source) };
    });
  }

  /** True when the path (relative to the context root) is left out of the context. */
  matches(relPath: string): boolean {
    if (this.patterns.length === 0) return false;
    const file = cleanPath(relPath);
    if (file === "." || file === "") return false;
    let excluded = false;
    for (const p of this.patterns) {
      // Only a pattern that could flip the current state needs evaluating: the last match wins.
      if (p.exception !== excluded) continue;
      if (p.re.test(file) || matchesAncestor(p.re, file)) excluded = !p.exception;
    }
    return excluded;
  }

  /** For an excluded directory: must a walker still descend, because an exception may re-include something inside? */
  mayContainIncluded(dirRelPath: string): boolean {
    const prefix = `${cleanPath(dirRelPath)}/`;
    return this.patterns.some(
      (p) => p.exception && (hasWildcards(p.source) || `${p.source}/`.startsWith(prefix)),
    );
  }
}

/** Whether `re` matches a proper ancestor of `file` ("a", "a/b" for "a/b/c"). */
function matchesAncestor(re: RegExp, file: string): boolean {
  for (let i = file.indexOf("/"); i >= 0; i = file.indexOf("/", i + 1)) {
    if (re.test(file.slice(0, i))) return true;
  }
  return false;
}
