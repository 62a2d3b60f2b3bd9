// Shell glob patterns of ${v#p}, ${v%p} and ${v/p/r}, converted to RegExps the way BuildKit's
// lexer does: "*" and "?" are wildcards, "\" escapes only "*", "?", "\" (and "/"), all else literal.

const LITERAL_META = new Set([".", "+", "(", ")", "|", "[", "]", "{", "}", "^", "$"]);

export function shellPatternToRegExp(
  pattern: string,
  greedy: boolean,
  anchored: boolean,
  flags = "u",
): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? "^" : "";
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === "*") out += greedy ? "[^]*" : "[^]*?";
    else if (ch === "?") out += "[^]";
    else if (ch === "\\") {
      // "\}" is how "}" is written inside ${...}: the backslash is not part of the pattern.
      if (chars[i + 1] === "}") continue;
      const next = chars[++i];
      // "\/" is our addition (upstream rejects it): the only way to put "/" in ${v/p/r}'s pattern.
      if (next === "/") out += "\\/";
      else if (next === "*" || next === "?" || next === "\\") out += `\\${next}`;
      else throw new Error(`invalid escape '\\${next ?? ""}'`);
    } else if (LITERAL_META.has(ch)) out += `\\${ch}`;
    else out += ch;
  }
  return new RegExp(out, flags);
}

/** Reverses a pattern, keeping each "\x" escape pair in order. */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === "\\" && i + 1 < chars.length) {
      out.unshift(chars[i]!, chars[i + 1]!);
      i++;
    } else out.unshift(chars[i]!);
  }
  return out.join("");
}

const reverse = (s: string) => Array.from(s).reverse().join("");

/** ${value#pattern} (shortest) or ${value##pattern} (greedy). */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

/** ${value%pattern} / ${value%%pattern}: a leftmost search on the reversed strings. */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy));
}

/** ${value/pattern/replacement} and ${value//pattern/replacement}; the replacement is literal. */
export function replacePattern(pattern: string, value: string, replacement: string, all: boolean): string {
  const re = shellPatternToRegExp(pattern, true, false, all ? "gu" : "u");
  return value.replace(re, () => replacement);
}
