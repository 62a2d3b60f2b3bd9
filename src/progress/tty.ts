// The terminal view (`--progress tty`, and `auto` on a terminal), in the manner of BuildKit's: a
// live area at the bottom shows the running steps with their clocks and last lines of output; a step
// that ends leaves one line above it (`=> CACHED …`, `=> … 1.2s`, `=> ERROR …` with its whole output),
// so that the scrollback reads like the plain log without the noise.
import type { ProgressEvent, ProgressSink } from "./events.js";
import { splitLines, stepLabel, summary, warningLines } from "./plain.js";
import type { TextOut } from "./text-out.js";

/** Output lines kept per running step for the live area (and per failed step, all of them up to this). */
const LIVE_LOG_LINES = 6;
const ERROR_LOG_LINES = 200;
const REDRAW_MS = 100;

interface Step {
  label: string;
  started: number;
  log: string[];
  partial: string;
}

interface Transfer {
  name: string;
  current: number;
  total: number;
}

export interface TtyOut extends TextOut {
  columns?: number;
}

export class TtyReporter implements ProgressSink {
  private readonly started: number;
  private readonly running = new Map<string, Step>();
  private readonly transfers = new Map<string, Transfer>();
  private readonly stages = new Map<string, string>();
  private warnings: Extract<ProgressEvent, { type: "warning" }>[] = [];
  private total = 0;
  private finished = 0;
  /** Lines the live area took when last drawn: the next draw moves up over them. */
  private drawn = 0;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: TtyOut,
    private readonly now: () => number = Date.now,
    tick = true,
  ) {
    this.started = now();
    if (tick) {
      this.timer = setInterval(() => this.redraw(), REDRAW_MS);
      this.timer.unref();
    }
  }

  emit(e: ProgressEvent): void {
    switch (e.type) {
      case "build-start":
        this.total = e.steps;
        break;
      case "step-start":
        if (e.stage !== undefined) this.stages.set(e.id, e.stage);
        this.running.set(e.id, {
          label: this.label(e.id, e.name, e.index, e.total),
          started: this.now(),
          log: [],
          partial: "",
        });
        break;
      case "step-cached":
        this.running.delete(e.id);
        this.finished++;
        this.commit([`=> CACHED ${this.label(e.id, e.name, e.index, e.total)}`]);
        return;
      case "step-log":
        this.log(e.id, e.data);
        break;
      case "step-done": {
        const s = this.running.get(e.id);
        this.running.delete(e.id);
        this.finished++;
        this.commit([`=> ${s?.label ?? e.name} ${seconds(e.durationMs)}`]);
        return;
      }
      case "step-error": {
        const s = this.running.get(e.id);
        this.running.delete(e.id);
        const output = s ? outputOf(s) : [];
        this.commit([`=> ERROR ${s?.label ?? e.name}`, ...output.map((l) => `   > ${l}`), `   ${e.message}`]);
        return;
      }
      case "transfer":
        if (e.current >= e.total) this.transfers.delete(e.id);
        else this.transfers.set(e.id, { name: e.name, current: e.current, total: e.total });
        break;
      case "warning":
        this.warnings.push(e);
        return;
      case "info":
        this.commit([e.message]);
        return;
      case "build-done":
        this.running.clear();
        this.transfers.clear();
        this.commit([...this.warningLines(), summary(e)]);
        return;
    }
    this.redraw();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.running.clear();
    this.transfers.clear();
    this.commit(this.warningLines());
  }

  private label(id: string, name: string, index: number, total: number): string {
    return stepLabel(this.stages.get(id), name, index, total);
  }

  private log(id: string, data: string): void {
    const s = this.running.get(id);
    if (!s) return;
    const { lines, rest } = splitLines(s.partial, data);
    s.partial = rest;
    s.log.push(...lines);
    if (s.log.length > ERROR_LOG_LINES) s.log.splice(0, s.log.length - ERROR_LOG_LINES);
  }

  /**
   * Clears the live area, writes `lines` for good above it, and draws the live area again. These may
   * wrap: only the live area is moved over.
   */
  private commit(lines: string[]): void {
    const text = lines.map((l) => `${l}\n`).join("");
    this.out.write(this.clearLive() + text + this.live());
  }

  private redraw(): void {
    this.out.write(this.clearLive() + this.live());
  }

  private clearLive(): string {
    const up = this.drawn;
    this.drawn = 0;
    // To the start of the first live line, then clear to the end of the screen.
    return up > 0 ? `\x1b[${up}F\x1b[J` : "";
  }

  private live(): string {
    if (this.running.size === 0 && this.transfers.size === 0) return "";
    const now = this.now();
    const lines = [`[+] Building ${seconds(now - this.started)} (${this.finished}/${this.total})`];
    for (const s of this.running.values()) {
      lines.push(` => ${s.label} ${seconds(now - s.started)}`);
      const tail = outputOf(s).slice(-LIVE_LOG_LINES);
      for (const l of tail) lines.push(` => => # ${l}`);
    }
    for (const t of this.transfers.values())
      lines.push(` => ${t.name} ${bytes(t.current)} / ${bytes(t.total)}`);
    this.drawn = lines.length;
    return lines.map((l) => `${this.clip(l)}\n`).join("");
  }

  /** Live lines must not wrap: the next redraw moves up by lines, not by screen rows. */
  private clip(line: string): string {
    // A pty nobody sized (script(1), some CI runners) reports 0 columns.
    const columns = this.out.columns !== undefined && this.out.columns > 0 ? this.out.columns : 80;
    const width = Math.max(20, columns - 1);
    return line.length > width ? `${line.slice(0, width - 1)}…` : line;
  }

  private warningLines(): string[] {
    const lines = warningLines(this.warnings);
    this.warnings = [];
    return lines;
  }
}

/** A running step's output: its whole lines and the line still being written. */
function outputOf(s: Step): string[] {
  return s.partial ? [...s.log, s.partial] : s.log;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function bytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)}MiB` : `${(n / 1024).toFixed(0)}KiB`;
}
