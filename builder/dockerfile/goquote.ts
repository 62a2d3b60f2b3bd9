// Go's strconv.Quote, which the conformance `result` files use for every word.

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

const NAMED_ESCAPES: Record<string, string> = {
  "\u0007": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
};

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

function quoteCodePoint(ch: string): string {
  if (ch === '"' || ch === "\\") return `\\${ch}`;
  if (PRINTABLE.test(ch)) return ch;
  const named = NAMED_ESCAPES[ch];
  if (named) return named;
  const cp = ch.codePointAt(0) ?? 0;
  // A lone surrogate can only come from text that was not valid UTF-8; Go shows such bytes
  // as \x escapes of the replacement character's bytes.
  if (cp >= 0xd800 && cp <= 0xdfff) return "\\ufffd";
  if (cp < 0x20 || cp === 0x7f) return `\\x${hex(cp, 2)}`;
  if (cp < 0x10000) return `\\u${hex(cp, 4)}`;
  return `\\U${hex(cp, 8)}`;
}

export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) out += quoteCodePoint(ch);
  return `${out}"`;
}
