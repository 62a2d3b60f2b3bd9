// BuildKit's shell-word lexer (frontend/dockerfile/shell/lex.go): quote removal, escapes and
// $VAR / ${VAR...} expansion for the instructions that expand their words. Errors are plain
// Errors; the caller adds the instruction's location.
import { isDigit, isLetter, isSpace } from "./chars.js";
import { replacePattern, trimPrefix, trimSuffix } from "./shell-pattern.js";
import type { EnvLookup, ExpansionResult } from "./types.js";

const SPECIAL_PARAMS = new Set(["@", "*", "#", "?", "-", "$", "!", "0"]);

/**
 * The longest word an expansion may make. `ENV a=$a$a` forty times doubles a value forty times: without
 * a bound it runs until memory is gone. BuildKit has none; 4 MiB is far beyond any real word.
 */
export const MAX_EXPANDED_WORD = 4 << 20;

/** Collects the word list of ProcessWords: unquoted whitespace from text or variables separates. */
class WordCollector {
  private word = "";
  private inWord = false;
  readonly words: string[] = [];

  addChar(ch: string): void {
    if (!isSpace(ch)) this.addRaw(ch);
    else if (this.inWord && this.word.length > 0) this.endWord();
  }

  addRaw(s: string): void {
    this.word += s;
    this.inWord = true;
  }

  addExpanded(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  private endWord(): void {
    this.words.push(this.word);
    this.word = "";
    this.inWord = false;
  }

  finish(): string[] {
    if (this.word.length > 0) this.endWord();
    return this.words;
  }
}

class WordProcessor {
  private readonly chars: string[];
  private pos = 0;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(
    source: string,
    private readonly env: EnvLookup,
    private readonly escapeToken: string,
  ) {
    this.chars = Array.from(source);
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    return this.chars[this.pos++];
  }

  /** The variable expanded last: the one an over-long word is blamed on. */
  private lastVariable = "";

  private lookup(name: string): string | undefined {
    this.lastVariable = name;
    const value = this.env(name);
    (value === undefined ? this.unmatched : this.matched).add(name);
    return value;
  }

  /** Reads up to stopChar (consumed) or the end; rawEscapes keeps escape characters in the result. */
  processUntil(stopChar: string | undefined, rawEscapes: boolean): { result: string; words: string[] } {
    let result = "";
    const words = new WordCollector();
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (stopChar !== undefined && ch === stopChar) {
        this.next();
        return { result, words: words.finish() };
      }
      if (ch === "'" || ch === '"' || ch === "$") {
        const piece = ch === "'" ? this.singleQuoted() : ch === '"' ? this.doubleQuoted() : this.dollar();
        result += piece;
        this.checkLength(result);
        if (ch === "$") words.addExpanded(piece);
        else words.addRaw(piece);
        continue;
      }
      this.next();
      if (ch === this.escapeToken) {
        if (rawEscapes) {
          words.addRaw(ch);
          result += ch;
        }
        const escaped = this.next();
        if (escaped === undefined) break;
        words.addRaw(escaped);
        result += escaped;
        continue;
      }
      words.addChar(ch);
      result += ch;
    }
    if (stopChar !== undefined)
      throw new Error(`unexpected end of statement while looking for matching ${stopChar}`);
    return { result, words: words.finish() };
  }

  private singleQuoted(): string {
    this.next();
    let result = "";
    for (;;) {
      const ch = this.next();
      if (ch === undefined)
        throw new Error("unexpected end of statement while looking for matching single-quote");
      if (ch === "'") return result;
      result += ch;
    }
  }

  private doubleQuoted(): string {
    this.next();
    let result = "";
    for (;;) {
      const ch = this.peek();
      if (ch === undefined)
        throw new Error("unexpected end of statement while looking for matching double-quote");
      if (ch === '"') {
        this.next();
        return result;
      }
      if (ch === "$") {
        result += this.dollar();
        this.checkLength(result);
        continue;
      }
      this.next();
      if (ch === this.escapeToken) {
        const after = this.peek();
        if (after === undefined) continue;
        // Inside double quotes the escape only escapes '"', '$' and itself.
        if (after === '"' || after === "$" || after === this.escapeToken) {
          result += this.next();
          continue;
        }
      }
      result += ch;
    }
  }

  private checkLength(word: string): void {
    if (word.length > MAX_EXPANDED_WORD)
      throw new Error(
        `expanding $${this.lastVariable} makes a word longer than ${MAX_EXPANDED_WORD >> 20} MiB (the limit)`,
      );
  }

  /** A name: letters, digits, "_"; or a run of digits; or one special-parameter character. */
  private name(): string {
    let name = "";
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name === "" && isDigit(ch)) {
        while (this.peek() !== undefined && isDigit(this.peek()!)) name += this.next();
        return name;
      }
      if (name === "" && SPECIAL_PARAMS.has(ch)) return this.next()!;
      if (!isLetter(ch) && !isDigit(ch) && ch !== "_") break;
      name += this.next();
    }
    return name;
  }

  private dollar(): string {
    this.next();
    if (this.peek() !== "{") {
      const name = this.name();
      return name === "" ? "$" : (this.lookup(name) ?? "");
    }
    this.next();
    const first = this.peek();
    if (first === undefined) throw new Error("syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":") throw new Error("syntax error: bad substitution");
    const name = this.name();
    const op = this.next();
    if (op === "}") return this.lookup(name) ?? "";
    if (op === "/") return this.replacement(name);
    let modifier = op ?? "";
    const nullIsUnset = op === ":";
    if (nullIsUnset) modifier += this.next() ?? "";
    const kind = modifier.slice(-1);
    if (!["+", "-", "?", "#", "%"].includes(kind) || (nullIsUnset && (kind === "#" || kind === "%"))) {
      // Read on to the "}" first, so that a missing "}" is reported as such.
      this.modifierWord(false);
      throw new Error(`unsupported modifier (${modifier}) in substitution`);
    }
    const word = this.modifierWord(kind === "#" || kind === "%");
    const value = this.lookup(name);
    const unset = value === undefined || (nullIsUnset && value === "");
    switch (kind) {
      case "-":
        return unset ? word : value;
      case "+":
        return unset ? "" : word;
      case "?":
        if (value === undefined) throw new Error(`${name}: ${word || "is not allowed to be unset"}`);
        if (unset) throw new Error(`${name}: ${word || "is not allowed to be empty"}`);
        return value;
      default: {
        const greedy = word.startsWith(kind);
        const pattern = greedy ? word.slice(1) : word;
        try {
          return kind === "%"
            ? trimSuffix(pattern, value ?? "", greedy)
            : trimPrefix(pattern, value ?? "", greedy);
        } catch (e) {
          throw new Error(`invalid pattern (${pattern}) in substitution: ${(e as Error).message}`, {
            cause: e,
          });
        }
      }
    }
  }

  private modifierWord(rawEscapes: boolean): string {
    try {
      return this.processUntil("}", rawEscapes).result;
    } catch (e) {
      if (this.peek() === undefined) throw new Error("syntax error: missing '}'");
      throw e;
    }
  }

  /** ${name/pattern/replacement} and ${name//pattern/replacement}. */
  private replacement(name: string): string {
    const all = this.peek() === "/";
    if (all) this.next();
    let pattern: string;
    try {
      pattern = this.processUntil("/", true).result;
    } catch (e) {
      if (this.peek() === undefined) throw new Error(`syntax error: missing '/' in \${}`);
      throw e;
    }
    const replacement = this.modifierWord(true);
    const value = this.lookup(name) ?? "";
    try {
      return replacePattern(pattern, value, replacement, all);
    } catch (e) {
      throw new Error(`invalid pattern (${pattern}) in substitution: ${(e as Error).message}`, { cause: e });
    }
  }
}

export class ShellLex {
  constructor(private readonly escapeToken: "\\" | "`" = "\\") {}

  private run(word: string, env: EnvLookup) {
    const processor = new WordProcessor(word, env, this.escapeToken);
    try {
      return { ...processor.processUntil(undefined, false), processor };
    } catch (e) {
      throw new Error(`failed to process "${word}": ${(e as Error).message}`, { cause: e });
    }
  }

  /** Expands one word: quotes removed, escapes applied, variables substituted, no splitting. */
  processWord(word: string, env: EnvLookup): string {
    return this.run(word, env).result;
  }

  /** Expands and splits into words; unquoted variable values are split on whitespace too. */
  processWords(word: string, env: EnvLookup): string[] {
    return this.run(word, env).words;
  }

  processWordWithMatches(word: string, env: EnvLookup): ExpansionResult {
    const { result, processor } = this.run(word, env);
    return { result, matched: processor.matched, unmatched: processor.unmatched };
  }
}
