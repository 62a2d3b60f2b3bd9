// Dockerfile text → parse tree (BuildKit's parser.Parse, line for line). Own line loop rather
// than dockerfile-ast: its instruction ranges continue past an escaped escape at end of line
// ("ENV C trailing\\" swallows the next instruction), and every argument split it offers
// (words, JSON, ENV pairs) differs from BuildKit, so only its ranges would have been usable.
import { DockerfileError, type SourceLocation } from "../../src/errors.js";
import { trimLeftSpace, trimSpace, WHITESPACE_RUN } from "./chars.js";
import { DirectiveScanner } from "./directives.js";
import { type HeredocMarker, heredocMarkersInLine, stripLeadingTabs } from "./heredoc.js";
import { splitArgs } from "./split-args.js";
import type { Directives, Heredoc, Node, ParseResult, Warning } from "./types.js";
import { extractLeadingFlags } from "./words.js";

const HEREDOC_KEYWORDS = new Set(["run", "copy", "add"]);

function isComment(line: string): boolean {
  return trimLeftSpace(line).startsWith("#");
}

/** Escape at end of line (spaces/tabs may follow) continues the line, unless it is itself escaped. */
function continuationPattern(escapeToken: string): RegExp {
  const e = escapeToken === "\\" ? "\\\\" : escapeToken;
  return new RegExp(`(^|[^${e}])${e}[ \\t]*$`);
}

function splitLines(text: string): string[] {
  const body = text.startsWith("\ufeff") ? text.slice(1) : text;
  if (body === "") return [];
  const lines = body.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.map((l) => l.replace(/\r+$/, ""));
}

class LineParser {
  private readonly lines: string[];
  private next = 0;
  private readonly scanner = new DirectiveScanner();
  private readonly nodes: Node[] = [];
  private readonly warnings: Warning[] = [];

  constructor(
    text: string,
    private readonly file: string,
  ) {
    this.lines = splitLines(text);
  }

  private get directives(): Directives {
    return this.scanner.directives;
  }

  private location(startLine: number, endLine: number, column?: number): SourceLocation {
    return column ? { file: this.file, startLine, endLine, column } : { file: this.file, startLine, endLine };
  }

  private fail(detail: string, startLine: number, endLine = startLine, column?: number): never {
    throw new DockerfileError(this.location(startLine, endLine, column), detail, this.lines);
  }

  /** Newline already gone; directive detection sees every line until the block ends. */
  private processLine(raw: string, lineNo: number, stripLeft: boolean): string {
    const line = stripLeft ? trimLeftSpace(raw) : raw;
    try {
      this.scanner.scan(line);
    } catch (e) {
      this.fail((e as Error).message, lineNo, lineNo, 1);
    }
    return isComment(line) ? "" : line;
  }

  private trimContinuation(line: string): [string, boolean] {
    const re = continuationPattern(this.directives.escape);
    return re.test(line) ? [line.replace(re, "$1"), false] : [line, true];
  }

  parse(): ParseResult {
    while (this.next < this.lines.length) this.parseInstruction();
    if (this.nodes.length === 0) this.fail("file with no instructions", Math.max(1, this.lines.length));
    return { nodes: this.nodes, directives: this.directives, lines: this.lines, warnings: this.warnings };
  }

  private parseInstruction(): void {
    const raw = this.lines[this.next]!;
    const startLine = ++this.next;
    let [line, endOfLine] = this.trimContinuation(this.processLine(raw, startLine, true));
    if (endOfLine && line === "") return;

    let emptyContinuation = false;
    while (!endOfLine && this.next < this.lines.length) {
      const rawNext = this.lines[this.next]!;
      const lineNo = ++this.next;
      const processed = this.processLine(rawNext, lineNo, false);
      if (isComment(rawNext)) continue;
      if (trimLeftSpace(processed) === "") {
        emptyContinuation = true;
        continue;
      }
      let piece: string;
      [piece, endOfLine] = this.trimContinuation(processed);
      line += piece;
    }
    const endLine = this.next;
    const column = raw.length - trimLeftSpace(raw).length + 1;
    if (emptyContinuation) {
      this.warnings.push({
        code: "NoEmptyContinuation",
        message: `Empty continuation line found in: ${line}`,
        location: this.location(endLine, endLine),
      });
    }

    const location = this.location(startLine, endLine, column);
    let node: Node;
    try {
      node = this.nodeFromLine(line, location);
    } catch (e) {
      if (e instanceof DockerfileError) throw e;
      this.fail((e as Error).message, startLine, endLine, column);
    }
    if (this.canContainHeredoc(node) && line.includes("<<")) {
      node.heredocs = heredocMarkersInLine(line).map((m) => this.readHeredocBody(m, startLine));
      node.location = this.location(startLine, this.next, column);
      if (node.next) node.next.location = node.location;
    }
    this.nodes.push(node);
  }

  private canContainHeredoc(node: Node): boolean {
    const target = node.keyword === "onbuild" && node.next ? node.next : node;
    return HEREDOC_KEYWORDS.has(target.keyword) && !target.json;
  }

  private readHeredocBody(marker: HeredocMarker, startLine: number): Heredoc {
    const body: string[] = [];
    while (this.next < this.lines.length) {
      const raw = this.lines[this.next++]!;
      const candidate = marker.chomp ? stripLeadingTabs(raw) : raw;
      if (candidate === marker.name) {
        const content = body.map((l) => `${marker.chomp ? stripLeadingTabs(l) : l}\n`).join("");
        const heredoc: Heredoc = { name: marker.name, content, expand: marker.expand };
        if (marker.fd !== undefined) heredoc.fd = marker.fd;
        return heredoc;
      }
      body.push(raw);
    }
    return this.fail(
      `unterminated heredoc <<${marker.name} (no line "${marker.name}" after it)`,
      startLine,
      this.next,
      1,
    );
  }

  private nodeFromLine(line: string, location: SourceLocation): Node {
    const trimmed = trimSpace(line);
    const m = WHITESPACE_RUN.exec(trimmed);
    const cmd = m ? trimmed.slice(0, m.index) : trimmed;
    const { flags, rest } = m
      ? extractLeadingFlags(trimmed.slice(m.index + m[0].length))
      : { flags: [], rest: "" };
    const keyword = cmd.toLowerCase();
    const split = splitArgs(keyword, trimSpace(rest), this.directives.escape);
    const node: Node = {
      keyword,
      flags,
      args: split.args,
      json: split.json,
      heredocs: [],
      original: line,
      location,
    };
    if (split.nested !== undefined) node.next = this.nodeFromLine(split.nested, location);
    return node;
  }
}

export function parseDockerfile(text: string, file = "Dockerfile"): ParseResult {
  return new LineParser(text, file).parse();
}
