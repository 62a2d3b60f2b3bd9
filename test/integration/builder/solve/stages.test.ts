// The stage solver with real builds: independent stages overlap (proven by the metrics file's
// timestamps), --jobs bounds them, unused stages never run, and a failure cancels the rest cleanly.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { leftoverMounts, tempDir, tsbuild } from "../../../helpers/tsbuild.js";
import {
  BASE_STAGE,
  BUSYBOX,
  type MetricsStep,
  outcomesByInstruction,
  readMetrics,
  unfinishedSnapshots,
} from "../../cache/helpers.js";

/** The most steps running at one instant, from their [start, end) intervals. */
function maxConcurrent(steps: MetricsStep[]): number {
  const edges = steps.flatMap((s) => [
    [s.start, 1],
    [s.end, -1],
  ]);
  // Ends before starts at the same ms: a slot handed over is not an overlap.
  edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let max = 0;
  for (const [, d] of edges) {
    now += d!;
    max = Math.max(max, now);
  }
  return max;
}

/** Processes whose command line holds `marker` (a RUN's shell keeps its script in argv). */
function processesWith(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmd.includes(marker) && Number(pid) !== process.pid)
        found.push(`${pid}: ${cmd.replaceAll("\0", " ")}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

describe("stage solver", () => {
  const store = tempDir("solver-store");
  const work = tempDir("solver-work");
  afterAll(() => {
    store.cleanup();
    work.cleanup();
  });

  const parallel = join(work.path, "parallel");
  const dockerfile = [
    BASE_STAGE,
    "FROM base AS a",
    "RUN sleep 2; echo a > /a",
    "FROM base AS b",
    "RUN sleep 2; echo b > /b",
    "FROM base AS c",
    "RUN sleep 2; echo c > /c",
    "FROM base AS unused",
    "RUN echo never-run; exit 1",
    "FROM base",
    "COPY --from=a /a /a",
    "COPY --from=b /b /b",
    "COPY --from=c /c /c",
    "",
  ].join("\n");

  it("runs three independent stages at once and never the unused one", () => {
    const ctx = parallel;
    mkdirSync(ctx);
    writeFileSync(join(ctx, "Dockerfile"), dockerfile);
    const metrics = join(work.path, "m1.json");
    const r = tsbuild(
      [
        "build",
        "-t",
        "par:1",
        ...BUSYBOX,
        "--jobs",
        "4",
        "--progress",
        "plain",
        "--metrics-file",
        metrics,
        ctx,
      ],
      {
        root: store.path,
      },
    );
    expect(r.stderr).not.toContain("never-run");
    expect(r.code).toBe(0);
    expect(Object.keys(outcomesByInstruction(r.stderr))).not.toContain("RUN echo never-run; exit 1");
    const m = readMetrics(metrics);
    const sleeps = m.steps.filter((s) => s.instruction.startsWith("RUN sleep 2"));
    expect(sleeps.map((s) => s.stage).sort()).toEqual(["a", "b", "c"]);
    // All three were running at one instant: the latest start precedes the earliest end.
    const latestStart = Math.max(...sleeps.map((s) => s.start));
    const earliestEnd = Math.min(...sleeps.map((s) => s.end));
    expect(latestStart).toBeLessThan(earliestEnd);
    expect(maxConcurrent(sleeps)).toBe(3);
    // Each finished COPY --from started only after the stage it reads had finished.
    for (const name of ["a", "b", "c"]) {
      const copy = m.steps.find((s) => s.instruction === `COPY --from=${name} /${name} /${name}`);
      const run = sleeps.find((s) => s.stage === name);
      expect(copy!.start).toBeGreaterThanOrEqual(run!.end);
    }
    // The metrics carry what the issue asks for, per step.
    for (const s of m.steps) {
      expect(s.cacheKey).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(s.line).toBeGreaterThan(0);
      expect(s.end).toBeGreaterThanOrEqual(s.start);
    }
    for (const s of sleeps) {
      expect(s.cached).toBe(false);
      expect(s.layerBytes).toBeGreaterThan(0);
      expect(s.peakMemoryBytes).toBeGreaterThan(0);
      expect(s.cpuMs).toBeGreaterThanOrEqual(0);
      expect(s.usageSource).toBe("cgroup");
    }
    expect(m.summary).toMatchObject({ steps: m.steps.length, cached: 0, hitRate: 0 });
  });

  it("bounds concurrency by --jobs (and --no-cache-filter takes a comma list)", () => {
    const ctx = parallel;
    const metrics = join(work.path, "m2.json");
    const r = tsbuild(
      [
        "build",
        "-t",
        "par:1",
        ...BUSYBOX,
        "--jobs",
        "2",
        "--no-cache-filter",
        "a,b",
        "--no-cache-filter",
        "c",
        "--progress",
        "plain",
        "--metrics-file",
        metrics,
        ctx,
      ],
      { root: store.path },
    );
    expect(r.code).toBe(0);
    const m = readMetrics(metrics);
    const sleeps = m.steps.filter((s) => s.instruction.startsWith("RUN sleep 2"));
    expect(sleeps.map((s) => s.cached)).toEqual([false, false, false]);
    expect(maxConcurrent(sleeps)).toBe(2);
    // The base stage was not filtered: its steps hit.
    expect(m.steps.filter((s) => s.stage === "base").map((s) => s.cached)).toEqual([true, true]);
  });

  it("stops at the first failure: exit 1, the other stage's sandbox killed, nothing left behind", () => {
    const ctx = join(work.path, "failing");
    mkdirSync(ctx);
    const marker = `solver-marker-${process.pid}-${Date.now()}`;
    writeFileSync(
      join(ctx, "Dockerfile"),
      [
        BASE_STAGE,
        "FROM base AS slow",
        `RUN sleep 60 # ${marker}`,
        "FROM base AS failing",
        "RUN sleep 1; exit 7",
        "FROM base",
        "COPY --from=slow /bin/sh /x",
        "COPY --from=failing /bin/sh /y",
        "",
      ].join("\n"),
    );
    const metrics = join(work.path, "m3.json");
    const r = tsbuild(
      ["build", "-t", "fail:1", ...BUSYBOX, "--progress", "plain", "--metrics-file", metrics, ctx],
      {
        root: store.path,
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Dockerfile:7: RUN sleep 1; exit 7: .*exit code: 7/);
    expect(outcomesByInstruction(r.stderr)[`RUN sleep 60 # ${marker}`]).toBe("ERROR");
    expect(r.stderr).toMatch(/#\d+ ERROR: CANCELED/);
    expect(processesWith(marker)).toEqual([]);
    expect(leftoverMounts(store.path)).toEqual([]);
    expect(unfinishedSnapshots(store.path)).toEqual([]);
    expect(readdirSync(join(store.path, "builds"))).toEqual([]);
    expect(readMetrics(metrics).ok).toBe(false);
  });
});
