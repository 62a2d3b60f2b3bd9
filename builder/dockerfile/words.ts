// The two word scanners of BuildKit's parser (parser/line_parsers.go and parser/parser.go):
// neither removes variables, both are needed to reproduce its argument splitting exactly.
import { isSpace } from "./chars.js";

/**
 * Splits on unquoted whitespace; quotes and escape characters stay in the words (ENV, LABEL,
 * ARG). An escape keeps the next character attached, even a quote.
 */
export function splitWordsKeepingQuotes(rest: string, escapeToken: string): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote = "";
  // A quoted empty string ("") is still a word.
  let blankOK = false;

  const flush = () => {
    if (blankOK || word.length > 0) words.push(word);
    word = "";
    blankOK = false;
    inWord = false;
  };

  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (quote) {
      if (ch === quote) quote = "";
      if (ch === escapeToken && quote !== "'") {
        if (i + 1 === chars.length) continue;
        word += ch + chars[++i];
        continue;
      }
      word += ch;
      continue;
    }
    if (!inWord && isSpace(ch)) continue;
    inWord = true;
    if (isSpace(ch)) {
      flush();
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      blankOK = true;
    }
    if (ch === escapeToken) {
      if (i + 1 === chars.length) continue;
      word += ch + chars[++i];
      continue;
    }
    word += ch;
  }
  if (inWord || quote) flush();
  return words;
}

export interface LeadingFlags {
  flags: string[];
  rest: string;
}

/**
 * Takes the leading "--name[=value]" words off an instruction's arguments. Quotes and
 * backslashes in flag words are processed (always "\", whatever the escape directive says,
 * as upstream does); a bare "--" ends the flags and is dropped.
 */
export function extractLeadingFlags(line: string): LeadingFlags {
  const chars = Array.from(line);
  const flags: string[] = [];
  let word = "";
  let blankOK = false;
  let quote = "";
  let inWord = false;
  const restFrom = (i: number) => chars.slice(i).join("");

  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (!inWord) {
      if (isSpace(ch)) continue;
      if (ch !== "-" || chars[i + 1] !== "-") return { flags, rest: restFrom(i) };
      inWord = true;
    }
    if (quote) {
      if (ch === quote) {
        quote = "";
        continue;
      }
      if (ch === "\\") {
        if (i + 1 === chars.length) {
          quote = "";
          continue;
        }
        word += chars[++i];
        continue;
      }
      word += ch;
      continue;
    }
    if (isSpace(ch)) {
      if (word === "--") return { flags, rest: restFrom(i) };
      if (blankOK || word.length > 0) flags.push(word);
      word = "";
      blankOK = false;
      inWord = false;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      blankOK = true;
      continue;
    }
    if (ch === "\\") {
      if (i + 1 === chars.length) continue;
      word += chars[++i];
      continue;
    }
    word += ch;
  }
  if (inWord && word !== "--" && (blankOK || word.length > 0)) flags.push(word);
  return { flags, rest: "" };
}
