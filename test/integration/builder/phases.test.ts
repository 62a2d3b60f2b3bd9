// The build's phases called one at a time, as the build calls them, against a real store and real
// sandboxes: the plan alone, the solve on it, the outputs of the solve; and the step runner on a
// real op, owning the cache protocol by itself.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheRecords } from "../../../builder/cache/records.js";
import { workdirOp } from "../../../builder/ops/workdir-op.js";
import { writeOutputs } from "../../../builder/outputs/outputs.js";
import { planBuild } from "../../../builder/plan/plan.js";
import { solveBuild } from "../../../builder/solve/solve.js";
import type { StepMetrics } from "../../../builder/solve/step-metrics.js";
import { StepRunner } from "../../../builder/solve/step-runner.js";
import { scratchState } from "../../../builder/ops/source.js";
import { snapshotDirs } from "../../../snapshotter/mount.js";
import { openOverlaySnapshotter } from "../../../snapshotter/overlay.js";
import type { ProgressEvent } from "../../../src/progress/events.js";
import { openContentStore } from "../../../src/store/content.js";
import { tempDir } from "../../helpers/tsbuild.js";

let work: ReturnType<typeof tempDir>;
beforeAll(() => {
  work = tempDir("phases");
});
afterAll(() => work.cleanup());

async function openStores(name: string) {
  const root = join(work.path, name);
  const store = await openContentStore(root);
  const snapshotter = await openOverlaySnapshotter(join(root, "snapshots"));
  const events: ProgressEvent[] = [];
  return {
    root,
    store,
    snapshotter,
    progress: { emit: (e: ProgressEvent) => void events.push(e), close() {} },
    events,
  };
}

const solveOptions = {
  noCache: false,
  jobs: 2,
  compression: "gzip" as const,
  pull: { policy: "never" as const, insecureRegistries: [] },
  exportsCache: false,
};

describe("plan → solve → outputs", () => {
  it("each phase runs alone on the one before's result", async () => {
    const ctx = join(work.path, "ctx");
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, "msg"), "phases\n");
    writeFileSync(
      join(ctx, "Dockerfile"),
      [
        "FROM scratch AS tools",
        "COPY --from=busybox-bin busybox /bin/busybox",
        "FROM tools",
        "WORKDIR /app",
        "COPY msg .",
        'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox cat msg msg > twice"]',
        "",
      ].join("\n"),
    );
    const deps = await openStores("store");
    const plan = planBuild({ contextDir: ctx, buildArgs: {}, buildContexts: { "busybox-bin": "/bin" } });
    expect(plan.stages[1]!.base).toEqual({ kind: "stage", index: 0 });

    const steps: StepMetrics[] = [];
    const abort = new AbortController();
    const solved = await solveBuild(plan, solveOptions, { ...deps, abort, onStep: (m) => steps.push(m) });
    expect(steps.map((s) => [s.instruction.split(" ")[0], s.cached])).toEqual([
      ["COPY", false],
      ["WORKDIR", false],
      ["COPY", false],
      ["RUN", false],
    ]);
    expect(solved.final.layers).toHaveLength(4);
    expect(solved.stages.size).toBe(2);
    // The solve leaves the target's rootfs as a committed snapshot: a view shows what the RUN wrote.
    const view = await deps.snapshotter.view("check", solved.final.snapshot!);
    const top = snapshotDirs(view).lowers[0]!;
    expect(readFileSync(join(top, "app", "twice"), "utf8")).toBe("phases\nphases\n");
    await deps.snapshotter.remove("check");

    const image = await writeOutputs(
      plan,
      solved,
      { start: Date.now(), steps },
      { tags: ["phases:1"] },
      { ...deps, signal: abort.signal },
    );
    expect((await deps.store.getImage("docker.io/library/phases:1"))?.target).toEqual(image.manifest);
    expect(image.config.config.WorkingDir).toBe("/app");
    expect(deps.events.at(-1)).toMatchObject({ type: "build-done", steps: 4, cached: 0 });

    // The same plan solved again: every step a hit, the same image.
    const again: StepMetrics[] = [];
    const solved2 = await solveBuild(plan, solveOptions, { ...deps, abort, onStep: (m) => again.push(m) });
    expect(again.every((s) => s.cached)).toBe(true);
    expect(solved2.final.config.rootfs.diff_ids).toEqual(solved.final.config.rootfs.diff_ids);
  });
});

/** A step runner over a store of its own. */
async function runnerOn(name: string) {
  const deps = await openStores(name);
  const cache = new CacheRecords(join(deps.root, "cache"));
  const signal = new AbortController().signal;
  return {
    deps,
    cache,
    runner: new StepRunner({
      ...deps,
      cache,
      signal,
      scope: { compression: "gzip", platform: "linux/amd64", sandbox: "root", xattrs: "capability" },
    }),
  };
}

describe("StepRunner", () => {
  it("looks up, runs, records and reports a real op; --no-cache skips the lookup only", async () => {
    const { deps, cache, runner } = await runnerOn("runner");
    const step = {
      id: "#1",
      name: "WORKDIR /made",
      stage: "s",
      index: 1,
      total: 1,
      line: 2,
      file: "Dockerfile",
      noCache: false,
    };
    const first = scratchState();
    const miss = await runner.run(step, first, async () => workdirOp("/made"));
    expect(miss).toMatchObject({ cached: false, instruction: "WORKDIR /made", line: 2 });
    expect(miss.layerBytes).toBeGreaterThan(0);
    expect(first.layers).toHaveLength(1);
    await cache.flush();
    expect(cache.get(miss.cacheKey!)?.layer).toEqual(first.layers[0]);

    const second = scratchState();
    const hit = await runner.run(step, second, async () => workdirOp("/made"));
    expect(hit).toMatchObject({ cached: true, cacheKey: miss.cacheKey, layerBytes: miss.layerBytes });
    expect(second.layers).toEqual(first.layers);

    const third = scratchState();
    const forced = await runner.run({ ...step, noCache: true }, third, async () => workdirOp("/made"));
    expect(forced).toMatchObject({ cached: false, cacheKey: miss.cacheKey });
    // Same content, same layer: the runner reused the committed snapshot instead of a second one.
    expect(third.snapshot).toBe(first.snapshot);
    expect(deps.events.map((e) => e.type)).toEqual([
      "step-start",
      "step-done",
      "step-start",
      "step-cached",
      "step-start",
      "step-done",
    ]);
  });

  it("reports a failing op's error as the step's and records nothing", async () => {
    const { deps, cache, runner } = await runnerOn("runner-fail");
    const step = {
      id: "#1",
      name: "RUN boom",
      stage: "s",
      index: 1,
      total: 1,
      line: 1,
      file: "Dockerfile",
      noCache: false,
    };
    const op = { kind: "RUN", inputs: { boom: 1 }, exec: async () => Promise.reject(new Error("boom")) };
    await expect(runner.run(step, scratchState(), async () => op)).rejects.toThrow("boom");
    expect(deps.events.at(-1)).toEqual({ type: "step-error", id: "#1", name: "RUN boom", message: "boom" });
    expect(cache.list()).toEqual([]);
    const left: string[] = [];
    await deps.snapshotter.walk((i) => void left.push(i.name));
    expect(left).toEqual([]);
  });
});
