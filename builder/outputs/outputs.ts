// The outputs phase: what a solved build leaves behind. The image and its tags in the store, each -o
// export, the push, the cache export, the build checks (reported after the build, as BuildKit does),
// the metrics file and the closing summary. Each is a function of the plan and the solve's result.
import { familiarName } from "../../src/oci/reference.js";
import type { ProgressSink } from "../../src/progress/events.js";
import type { ContentStore } from "../../src/store/types.js";
import type { RemoteCacheSession } from "../cache/remote/session.js";
import type { CacheExportSpec } from "../cache/remote/spec.js";
import { checkDockerfile } from "../dockerfile/checks.js";
import type { BuildPlan } from "../plan/plan.js";
import type { Solved } from "../solve/solve.js";
import type { StepMetrics, StepStats } from "../solve/step-metrics.js";
import type { StageState } from "../state.js";
import { exportOciArchiveOutput, pushBuiltImage } from "./exporters.js";
import { type BuiltImage, writeBuiltImage } from "./image.js";
import { writeMetricsFile } from "./metrics-file.js";

export interface OutputOptions {
  tags: string[];
  /** `-o type=oci,dest=FILE`. */
  ociArchive?: string;
  push?: boolean;
  cacheTo?: CacheExportSpec[];
  insecureRegistries?: string[];
  metricsFile?: string;
}

export interface OutputDeps {
  store: ContentStore;
  progress: ProgressSink;
  signal: AbortSignal;
}

/** When the build started, and every step's figures. */
export interface BuildRun {
  start: number;
  steps: readonly StepMetrics[];
}

export async function writeOutputs(
  plan: BuildPlan,
  solved: Solved,
  run: BuildRun,
  opts: OutputOptions,
  deps: OutputDeps,
): Promise<BuiltImage> {
  const image = await writeBuiltImage(deps.store, solved.final, opts.tags);
  if (opts.ociArchive) await exportOciArchiveOutput(deps.store, image, opts.ociArchive);
  const transfer = {
    insecureRegistries: opts.insecureRegistries,
    progress: deps.progress,
    signal: deps.signal,
  };
  if (opts.push) await pushBuiltImage(deps.store, image, transfer);
  if (solved.remoteCache && opts.cacheTo?.length)
    await exportBuildCache(solved, solved.remoteCache, opts.cacheTo, deps.store, transfer);
  reportChecks(plan, deps.progress);
  const end = Date.now();
  if (opts.metricsFile)
    writeMetricsFile(opts.metricsFile, { ...run, end }, { ok: true, imageDigest: image.manifest.digest });
  const stats = stepStats(run.steps);
  deps.progress.emit({
    type: "build-done",
    ...stats,
    durationMs: end - run.start,
    imageDigest: image.manifest.digest,
    imageName: image.names[0] && familiarName(image.names[0]),
  });
  return image;
}

/** A failed build still writes its metrics file, with the error. */
export function recordFailure(metricsFile: string | undefined, run: BuildRun, err: unknown): void {
  if (metricsFile)
    writeMetricsFile(metricsFile, { ...run, end: Date.now() }, { ok: false, error: (err as Error).message });
}

export function stepStats(steps: readonly StepMetrics[]): StepStats {
  let cached = 0;
  let savedMs = 0;
  for (const s of steps) {
    if (!s.cached) continue;
    cached++;
    savedMs += s.savedMs ?? 0;
  }
  return { steps: steps.length, cached, savedMs };
}

/** `--cache-to`: mode=min exports the target's chain; mode=max every stage this build ran. */
async function exportBuildCache(
  solved: Solved,
  session: RemoteCacheSession,
  specs: CacheExportSpec[],
  store: ContentStore,
  transfer: { insecureRegistries?: string[]; progress: ProgressSink; signal: AbortSignal },
): Promise<void> {
  const { exportCache } = await import("../cache/remote/export.js");
  for (const spec of specs) {
    const states: StageState[] = spec.mode === "max" ? [...solved.stages.values()] : [solved.final];
    await exportCache(spec, { store, session, states, ...transfer });
  }
}

/** Build checks (BuildKit's lint rules), as warnings after the build. */
function reportChecks(plan: BuildPlan, progress: ProgressSink): void {
  for (const w of checkDockerfile(plan.parsed)) {
    progress.emit({
      type: "warning",
      code: w.code,
      message: w.message,
      location: w.location ? `${w.location.file}:${w.location.startLine}` : undefined,
    });
  }
}
