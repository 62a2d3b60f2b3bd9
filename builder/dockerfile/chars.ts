// Character classes as Go's unicode package defines them: BuildKit's parser and lexer use
// unicode.IsSpace / IsLetter / IsDigit, and JavaScript's \s differs (it includes U+FEFF and
// omits U+0085), so the conformance data needs these exact sets.

const SPACE = /^[\t\n\v\f\r \u0085\u00a0\p{Zs}\p{Zl}\p{Zp}]$/u;
const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;

export function isSpace(ch: string): boolean {
  return SPACE.test(ch);
}

export function isLetter(ch: string): boolean {
  return LETTER.test(ch);
}

export function isDigit(ch: string): boolean {
  return DIGIT.test(ch);
}

/** Go's strings.TrimSpace. */
export function trimSpace(s: string): string {
  return s.replace(
    /^[\t\n\v\f\r \u0085\u00a0\p{Zs}\p{Zl}\p{Zp}]+|[\t\n\v\f\r \u0085\u00a0\p{Zs}\p{Zl}\p{Zp}]+$/gu,
    "",
  );
}

/** Go's strings.TrimLeftFunc(s, unicode.IsSpace). */
export function trimLeftSpace(s: string): string {
  return s.replace(/^[\t\n\v\f\r \u0085\u00a0\p{Zs}\p{Zl}\p{Zp}]+/u, "");
}

/** The separator BuildKit's parser splits plain word lists on (reWhitespace). */
export const WHITESPACE_RUN = /[\t\v\f\r ]+/;
