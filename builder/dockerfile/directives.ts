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

/**
 * The `# syntax=` values that name the Dockerfile frontend tsbuild implements (docker/dockerfile and
 * its upstream and labs channels, any tag or digest): any other names a frontend image that BuildKit
 * would run and tsbuild does not.
 */
const DOCKERFILE_FRONTEND =
  /^(?:docker\.io\/)?docker\/dockerfile(?:-upstream)?(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$/;

/** A warning for a `# syntax=` directive naming a frontend other than the Dockerfile one, else undefined. */
export function foreignSyntaxWarning(syntax: string | undefined): string | undefined {
  if (syntax === undefined || DOCKERFILE_FRONTEND.test(syntax.trim())) return undefined;
  return `# syntax=${syntax}: tsbuild does not run frontend images; this Dockerfile is built by tsbuild's own Dockerfile frontend`;
}
