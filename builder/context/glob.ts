import { BuildStepError } from "../../src/errors.js";

// COPY source wildcards follow Go's filepath.Match, which BuildKit uses: `*` and `?` never match "/",
// `[...]` is a class negated by a leading `^` (not `!`), `\` escapes the next character.

/** True when the component has an unescaped `*`, `?` or `[`. */
export function hasWildcards(component: string): boolean {
  for (let i = 0; i < component.length; i++) {
    const ch = component[i];
    if (ch === "\\") i++;
    else if (ch === "*" || ch === "?" || ch === "[") return true;
  }
  return false;
}

/** The literal leading components (before the first one with a wildcard) and the rest. */
export function splitAtFirstWildcard(components: string[]): { literal: string[]; wild: string[] } {
  const i = components.findIndex(hasWildcards);
  if (i < 0) return { literal: components, wild: [] };
  return { literal: components.slice(0, i), wild: components.slice(i) };
}

/** Compiles one path component of a Go filepath.Match pattern; `pattern` is the whole one, for errors. */
export function compileComponent(component: string, pattern: string): RegExp {
  let re = "";
  let i = 0;
  const bad = () => new BuildStepError(`bad source pattern ${JSON.stringify(pattern)}`);
  while (i < component.length) {
    const ch = component[i]!;
    if (ch === "*") {
      re += "[^/]*";
      i++;
    } else if (ch === "?") {
      re += "[^/]";
      i++;
    } else if (ch === "\\") {
      if (i + 1 >= component.length) throw bad();
      re += escapeRegExp(component[i + 1]!);
      i += 2;
    } else if (ch === "[") {
      const cls = compileClass(component, i + 1);
      if (!cls) throw bad();
      re += cls.source;
      i = cls.end;
    } else {
      re += escapeRegExp(ch);
      i++;
    }
  }
  return new RegExp(`^${re}$`, "s");
}

/** Compiles a class starting after its `[`; returns the regexp text and the index after its `]`. */
function compileClass(s: string, start: number): { source: string; end: number } | undefined {
  let i = start;
  let negate = false;
  if (s[i] === "^") {
    negate = true;
    i++;
  }
  const items: string[] = [];
  // Go takes a "]" right after "[" (or "[^") as the end of an empty class, which is malformed.
  while (i < s.length && !(s[i] === "]" && items.length > 0)) {
    const lo = classChar(s, i);
    if (!lo) return undefined;
    i = lo.end;
    if (s[i] === "-") {
      const hi = classChar(s, i + 1);
      if (!hi || hi.ch < lo.ch) return undefined;
      i = hi.end;
      items.push(`${escapeClassChar(lo.ch)}-${escapeClassChar(hi.ch)}`);
    } else {
      items.push(escapeClassChar(lo.ch));
    }
  }
  if (s[i] !== "]" || items.length === 0) return undefined;
  return { source: `[${negate ? "^/" : ""}${items.join("")}]`, end: i + 1 };
}

function classChar(s: string, i: number): { ch: string; end: number } | undefined {
  const ch = s[i];
  if (ch === undefined || ch === "-" || ch === "]") return undefined;
  if (ch === "\\") {
    const next = s[i + 1];
    return next === undefined ? undefined : { ch: next, end: i + 2 };
  }
  return { ch, end: i + 1 };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

function escapeClassChar(ch: string): string {
  return /[\]\\^-]/.test(ch) ? `\\${ch}` : ch;
}
