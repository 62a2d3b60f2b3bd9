// The terminal view: a live area redrawn in place (cursor up + clear), finished steps written once
// above it, a failed step's output kept, lines clipped to the terminal's width.
import { describe, expect, it } from "vitest";
import { createReporter } from "../../../../src/progress/reporter.js";
import { TtyReporter } from "../../../../src/progress/tty.js";

/** Applies what the reporter wrote to a screen of lines: "\x1b[NF" moves up N lines, "\x1b[J" clears below. */
function screen(writes: string[]): string[] {
  const rows: string[] = [];
  let row = 0;
  for (const w of writes) {
    for (const part of w.split(/(\x1b\[\d+F|\x1b\[J)/)) {
      const up = /^\x1b\[(\d+)F$/.exec(part);
      if (up) row -= Number(up[1]);
      else if (part === "\x1b[J") rows.length = row;
      else
        for (const ch of part.split(/(\n)/)) {
          if (ch === "\n") row++;
          else if (ch) rows[row] = (rows[row] ?? "") + ch;
        }
    }
  }
  return rows.slice(0, row);
}

describe("tty reporter", () => {
  it("keeps finished steps above a live area of running steps and their last lines", () => {
    let t = 1_000;
    const writes: string[] = [];
    const r = new TtyReporter({ write: (s: string) => writes.push(s), columns: 60 }, () => t, false);
    r.emit({ type: "build-start", steps: 3, target: "final" });
    r.emit({ type: "step-cached", id: "a", name: "FROM base", index: 1, total: 3 });
    r.emit({ type: "step-start", id: "b", name: "RUN make", stage: "build", index: 2, total: 3 });
    t += 1_500;
    r.emit({
      type: "step-log",
      id: "b",
      stream: "stdout",
      data: "one\ntwo\nthree\nfour\nfive\nsix\nseven\npartial",
    });
    expect(screen(writes)).toEqual([
      "=> CACHED [1/3] FROM base",
      "[+] Building 1.5s (1/3)",
      " => [build 2/3] RUN make 1.5s",
      " => => # three",
      " => => # four",
      " => => # five",
      " => => # six",
      " => => # seven",
      " => => # partial",
    ]);
    r.emit({ type: "step-done", id: "b", name: "RUN make", durationMs: 1_600 });
    r.emit({ type: "step-start", id: "c", name: `RUN ${"x".repeat(100)}`, index: 3, total: 3 });
    const shown = screen(writes);
    expect(shown.slice(0, 3)).toEqual([
      "=> CACHED [1/3] FROM base",
      "=> [build 2/3] RUN make 1.6s",
      "[+] Building 1.5s (2/3)",
    ]);
    // Clipped to the width: a wrapped line would throw the next redraw's cursor math off.
    expect(shown[3]!.length).toBeLessThanOrEqual(59);
    expect(shown[3]!.endsWith("…")).toBe(true);
  });

  it("writes a failed step with its whole output, then the summary; nothing live is left", () => {
    const writes: string[] = [];
    const r = new TtyReporter({ write: (s: string) => writes.push(s) }, () => 0, false);
    r.emit({ type: "build-start", steps: 1, target: "t" });
    r.emit({ type: "step-start", id: "x", name: "RUN false", index: 1, total: 1 });
    r.emit({ type: "step-log", id: "x", stream: "stderr", data: "a\nb\nc\nd\ne\nf\ng\n" });
    r.emit({ type: "step-error", id: "x", name: "RUN false", message: "exit code: 1" });
    r.emit({ type: "warning", code: "W", message: "careful" });
    r.close();
    expect(screen(writes)).toEqual([
      "=> ERROR [1/1] RUN false",
      ...["a", "b", "c", "d", "e", "f", "g"].map((l) => `   > ${l}`),
      "   exit code: 1",
      "1 warning found:",
      " - W: careful",
    ]);
  });

  it("is what auto picks on a terminal, and plain elsewhere or with TERM=dumb", () => {
    const out = { write: () => true, isTTY: true };
    expect(createReporter("auto", out, {})).toBeInstanceOf(TtyReporter);
    const plain = createReporter("auto", { write: () => true }, {});
    expect(plain).not.toBeInstanceOf(TtyReporter);
    expect(createReporter("auto", out, { TERM: "dumb" })).not.toBeInstanceOf(TtyReporter);
    for (const r of [createReporter("auto", out, {}), plain]) r.close();
  });
});
