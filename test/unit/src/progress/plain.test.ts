import { describe, expect, it } from "vitest";
import type { ProgressEvent } from "../../../../src/progress/events.js";
import { createReporter } from "../../../../src/progress/reporter.js";

function render(mode: "plain" | "json", events: ProgressEvent[], close = false): string[] {
  let text = "";
  const sink = createReporter(mode, { write: (s: string) => (text += s) });
  for (const e of events) sink.emit(e);
  if (close) sink.close();
  return text.split("\n").slice(0, -1);
}

describe("plain reporter", () => {
  it("renders a build with cached, run and interleaved steps", () => {
    const lines = render("plain", [
      { type: "build-start", steps: 4, target: "final" },
      { type: "step-cached", id: "a", name: "FROM busybox", index: 1, total: 2, savedMs: 50 },
      { type: "step-start", id: "b", name: "RUN make", stage: "build", index: 2, total: 2 },
      { type: "step-start", id: "c", name: "RUN ./test", stage: "test", index: 1, total: 1 },
      { type: "step-log", id: "b", stream: "stdout", data: "compil" },
      { type: "step-log", id: "c", stream: "stderr", data: "ok 1\r\nok " },
      { type: "step-log", id: "b", stream: "stdout", data: "ing\nlinking\n" },
      { type: "step-log", id: "c", stream: "stderr", data: "2" },
      { type: "step-done", id: "c", name: "RUN ./test", durationMs: 250 },
      { type: "step-done", id: "b", name: "RUN make", durationMs: 1234 },
      { type: "warning", code: "JSONArgsRecommended", message: "use JSON for CMD", location: "Dockerfile:9" },
      { type: "info", message: "exporting to oci-archive out.tar" },
      { type: "step-start", id: "d", name: "COPY --from=build /app /app", index: 2, total: 2 },
      { type: "step-done", id: "d", name: "COPY --from=build /app /app", durationMs: 40 },
      {
        type: "build-done",
        steps: 4,
        cached: 1,
        durationMs: 1420,
        imageName: "hello:1",
        imageDigest: `sha256:0123456789abcdef${"0".repeat(48)}`,
      },
    ]);
    expect(lines).toEqual([
      "#1 [1/2] FROM busybox",
      "#1 CACHED",
      "#2 [build 2/2] RUN make",
      "#3 [test 1/1] RUN ./test",
      "#3 ok 1",
      "#2 compiling",
      "#2 linking",
      "#3 ok 2",
      "#3 DONE 0.3s",
      "#2 DONE 1.2s",
      "exporting to oci-archive out.tar",
      "#4 [2/2] COPY --from=build /app /app",
      "#4 DONE 0.0s",
      "1 warning found:",
      " - JSONArgsRecommended: use JSON for CMD (Dockerfile:9)",
      "=> 4 steps, 1 cached (25%), 1.42s — image hello:1 sha256:0123456789ab…",
    ]);
  });

  it("renders errors, a fully cached summary with savings, and flushes on close", () => {
    expect(
      render(
        "plain",
        [
          { type: "step-start", id: "x", name: "RUN false", index: 1, total: 1 },
          { type: "step-log", id: "x", stream: "stderr", data: "no newline at the end" },
          { type: "step-error", id: "x", name: "RUN false", message: "exit status 1" },
          { type: "warning", code: "W1", message: "first" },
          { type: "warning", code: "W2", message: "second" },
        ],
        true,
      ),
    ).toEqual([
      "#1 [1/1] RUN false",
      "#1 no newline at the end",
      "#1 ERROR: exit status 1",
      "2 warnings found:",
      " - W1: first",
      " - W2: second",
    ]);
    expect(
      render("plain", [{ type: "build-done", steps: 7, cached: 7, durationMs: 420, savedMs: 12_340 }]),
    ).toEqual(["=> 7 steps, 7 cached (100%), 0.42s, ~12.3s saved by the cache"]);
  });
});

describe("json reporter", () => {
  it("writes one object per line", () => {
    const events: ProgressEvent[] = [
      { type: "step-start", id: "x", name: "RUN echo", index: 1, total: 1 },
      { type: "step-log", id: "x", stream: "stdout", data: "a\nb" },
    ];
    expect(render("json", events).map((l) => JSON.parse(l))).toEqual(events);
  });
});
