// Parser directives ("# escape=`"): only the leading block of "#" lines counts; the first line
// that is not a known directive ends the block for good.
import type { Directives } from "./types.js";

const DIRECTIVE = /^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$/;
const KNOWN = new Set(["syntax", "escape", "check"]);

export class DirectiveScanner {
  readonly directives: Directives = { escape: "\\" };
  private done = false;
  private readonly seen = new Set<string>();

  /** Feeds one line (newline and leading whitespace already removed); throws a plain Error on misuse. */
  scan(line: string): void {
    if (this.done) return;
    const m = DIRECTIVE.exec(line);
    const key = m?.[1]?.toLowerCase();
    if (!m || !key || !KNOWN.has(key)) {
      this.done = true;
      return;
    }
    if (this.seen.has(key)) throw new Error(`only one ${key} parser directive can be used`);
    this.seen.add(key);
    const value = m[2]!;
    if (key === "escape") {
      if (value !== "\\" && value !== "`") {
        throw new Error(`invalid escape token '${value}' does not match \` or \\`);
      }
      this.directives.escape = value;
    } else if (key === "syntax") {
      this.directives.syntax = value;
    } else {
      this.directives.check = value;
    }
  }
}
