import type { ProgressEvent, ProgressSink } from "./events.js";
import type { TextOut } from "./text-out.js";

type Warning = Extract<ProgressEvent, { type: "warning" }>;
type BuildDone = Extract<ProgressEvent, { type: "build-done" }>;

/**
 * Renders progress as plain lines, BuildKit style: `#3 [build 2/5] RUN make`, the step's output
 * prefixed `#3 `, then `#3 CACHED` / `#3 DONE 1.2s` / `#3 ERROR: …`; warnings and a summary at the end.
 */
export class PlainReporter implements ProgressSink {
  private readonly numbers = new Map<string, number>();
  private readonly stages = new Map<string, string>();
  /** The unfinished last line of each step's output, held back so that concurrent steps never split a line. */
  private readonly partial = new Map<string, string>();
  private warnings: Warning[] = [];

  constructor(private readonly out: TextOut = process.stderr) {}

  emit(e: ProgressEvent): void {
    switch (e.type) {
      case "build-start":
        return;
      case "step-start":
        if (e.stage !== undefined) this.stages.set(e.id, e.stage);
        this.header(e.id, e.name, e.index, e.total);
        return;
      case "step-cached":
        if (!this.numbers.has(e.id)) this.header(e.id, e.name, e.index, e.total);
        this.line(e.id, "CACHED");
        return;
      case "step-log":
        this.log(e.id, e.data);
        return;
      case "step-done":
        this.flush(e.id);
        this.line(e.id, `DONE ${(e.durationMs / 1000).toFixed(1)}s`);
        return;
      case "step-error":
        this.flush(e.id);
        this.line(e.id, `ERROR: ${e.message}`);
        return;
      case "warning":
        this.warnings.push(e);
        return;
      case "info":
        this.out.write(`${e.message}\n`);
        return;
      case "build-done":
        for (const id of [...this.partial.keys()]) this.flush(id);
        this.printWarnings();
        this.out.write(`${summary(e)}\n`);
        return;
    }
  }

  close(): void {
    for (const id of [...this.partial.keys()]) this.flush(id);
    this.printWarnings();
  }

  private number(id: string): number {
    let n = this.numbers.get(id);
    if (n === undefined) {
      n = this.numbers.size + 1;
      this.numbers.set(id, n);
    }
    return n;
  }

  private header(id: string, name: string, index: number, total: number): void {
    this.out.write(`#${this.number(id)} ${stepLabel(this.stages.get(id), name, index, total)}\n`);
  }

  private line(id: string, text: string): void {
    this.out.write(`#${this.number(id)} ${text}\n`);
  }

  private log(id: string, data: string): void {
    const { lines, rest } = splitLines(this.partial.get(id) ?? "", data);
    if (rest === "") this.partial.delete(id);
    else this.partial.set(id, rest);
    for (const l of lines) this.line(id, l);
  }

  private flush(id: string): void {
    const rest = this.partial.get(id);
    this.partial.delete(id);
    if (rest !== undefined) this.line(id, rest);
  }

  private printWarnings(): void {
    for (const line of warningLines(this.warnings)) this.out.write(`${line}\n`);
    this.warnings = [];
  }
}

/** `[stage 2/5] RUN make`: how both reporters name a step. */
export function stepLabel(stage: string | undefined, name: string, index: number, total: number): string {
  return `[${stage === undefined ? "" : `${stage} `}${index}/${total}] ${name}`;
}

/**
 * A step's output so far cut into whole lines (a trailing CR dropped, for CRLF output) and the
 * unfinished rest, held back until its newline comes.
 */
export function splitLines(held: string, data: string): { lines: string[]; rest: string } {
  const lines = (held + data).split("\n");
  const rest = lines.pop() ?? "";
  return { lines: lines.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l)), rest };
}

/** `2 warnings found:` and a line per warning; nothing when there are none. */
export function warningLines(warnings: Warning[]): string[] {
  const n = warnings.length;
  if (n === 0) return [];
  return [
    `${n} warning${n === 1 ? "" : "s"} found:`,
    ...warnings.map((w) => ` - ${w.code}: ${w.message}${w.location === undefined ? "" : ` (${w.location})`}`),
  ];
}

/** `=> 7 steps, 7 cached (100%), 0.42s — image hello:1 sha256:0123456789ab…` */
export function summary(e: BuildDone): string {
  const parts = [`${e.steps} step${e.steps === 1 ? "" : "s"}`];
  const pct = e.steps > 0 ? ` (${Math.round((e.cached / e.steps) * 100)}%)` : "";
  parts.push(`${e.cached} cached${pct}`);
  parts.push(`${(e.durationMs / 1000).toFixed(2)}s`);
  if (e.savedMs !== undefined && e.savedMs > 0)
    parts.push(`~${(e.savedMs / 1000).toFixed(1)}s saved by the cache`);
  const image = [e.imageName, e.imageDigest === undefined ? undefined : shortDigest(e.imageDigest)].filter(
    (s) => s !== undefined,
  );
  return `=> ${parts.join(", ")}${image.length > 0 ? ` — image ${image.join(" ")}` : ""}`;
}

function shortDigest(d: string): string {
  const colon = d.indexOf(":");
  return d.length > colon + 13 ? `${d.slice(0, colon + 13)}…` : d;
}
