// One build: Dockerfile + context in, a tagged image in the store (and its exports) out, in three
// phases over one plan, as BuildKit's Dockerfile frontend converts and its solver then runs:
//   plan     builder/plan/     parse, resolve args, target, each stage's base and the stage graph
//   solve    builder/solve/    run the needed stages; every layer step through the step runner
//   outputs  builder/outputs/  image and tags, -o exports, push, cache export, checks, metrics
import type { Compression, Descriptor, ImageConfig } from "../src/oci/types.js";
import type { ProgressSink } from "../src/progress/events.js";
import { basename } from "node:path";
import { DockerfileError } from "../src/errors.js";
import { markInUse } from "../src/store/in-use.js";
import type { ContentStore } from "../src/store/types.js";
import type { Snapshotter } from "../snapshotter/types.js";
import type { CacheExportSpec, CacheImportSpec } from "./cache/remote/spec.js";
import { checkDockerfile, checksAreErrors } from "./dockerfile/checks.js";
import type { SecretSource } from "./ops/mounts/secrets.js";
import type { SshSources } from "./ops/mounts/ssh.js";
import { type RunLimits, sweepStaleCgroups } from "./ops/run-limits.js";
import type { PullPolicy } from "./ops/source.js";
import { type OutputOptions, recordFailure, stepStats, writeOutputs } from "./outputs/outputs.js";
import { type BuildPlan, type PlanInput, countSteps, planBuild } from "./plan/plan.js";
import { solveBuild } from "./solve/solve.js";
import type { StepMetrics, StepStats } from "./solve/step-metrics.js";
import type { XattrPolicy } from "../snapshotter/layer/xattrs.js";

export type { PullPolicy } from "./ops/source.js";

export interface BuildOptions extends PlanInput, OutputOptions {
  noCache: boolean;
  jobs: number;
  compression: Compression;
  sourceDateEpoch?: number;
  /** `--layer-xattrs`: which extended attributes layers record (default "capability"). */
  layerXattrs?: XattrPolicy;
  /** `--secret id=X,src=FILE|env=VAR`, by id, for RUN --mount=type=secret. */
  secrets?: Record<string, SecretSource>;
  /** `--ssh ID[=SOCKET]`: ssh-agent sockets by id, for RUN --mount=type=ssh. */
  ssh?: SshSources;
  /** When base images are pulled: missing (default), always (`--pull`), never (`--pull=never`). */
  pull?: PullPolicy;
  /** Registries reached over plain HTTP besides loopback: `--insecure-registry`. */
  insecureRegistries?: string[];
  /** `--cache-to`: export the build's cache records and layers to a registry or an OCI layout dir. */
  cacheTo?: CacheExportSpec[];
  /** `--cache-from`: caches whose records a local miss falls back to (layers fetched on a hit only). */
  cacheFrom?: CacheImportSpec[];
  /** `--memory`, `--cpus`, `--pids-limit`, …: every RUN's resource limits. */
  runLimits?: RunLimits;
}

export interface BuildDeps {
  root: string;
  store: ContentStore;
  snapshotter: Snapshotter;
  progress: ProgressSink;
  /** Aborting it (Ctrl-C) cancels the build cleanly: sandboxes killed, snapshots released. */
  signal?: AbortSignal;
}

export interface BuildResult {
  manifest: Descriptor;
  config: ImageConfig;
  stats: StepStats;
  durationMs: number;
}

/**
 * `# check=error=true`: a build check that fires fails the build before anything runs, as BuildKit's
 * does; the error names the first one's line and every rule that fired.
 */
function failOnCheckErrors(plan: BuildPlan): void {
  if (!checksAreErrors(plan.parsed)) return;
  const fired = checkDockerfile(plan.parsed);
  const first = fired[0];
  if (!first) return;
  const rules = [...new Set(fired.map((w) => w.code))].join(", ");
  const location = first.location ?? { file: basename(plan.dockerfilePath), startLine: 1, endLine: 1 };
  throw new DockerfileError(
    location,
    `${fired.length} build check(s) failed with check=error=true (${rules}): ${first.code}: ${first.message}`,
    plan.parsed.lines,
  );
}

/** Runs one build while the store is marked in use, so that a concurrent prune leaves its inputs alone. */
export async function build(opts: BuildOptions, deps: BuildDeps): Promise<BuildResult> {
  const release = await markInUse(deps.root);
  sweepStaleCgroups();
  try {
    const start = Date.now();
    return await runPhases(planBuild(opts), opts, deps, start);
  } finally {
    release();
  }
}

async function runPhases(plan: BuildPlan, opts: BuildOptions, deps: BuildDeps, start: number) {
  for (const w of plan.warnings) deps.progress.emit({ type: "warning", code: w.code, message: w.message });
  failOnCheckErrors(plan);
  const abort = new AbortController();
  deps.signal?.addEventListener("abort", () => abort.abort(deps.signal?.reason), { once: true });
  const steps: StepMetrics[] = [];
  const run = { start, steps };
  deps.progress.emit({
    type: "build-start",
    steps: countSteps(plan).layerSteps,
    target: plan.stageSet.stages[plan.target]?.name ?? String(plan.target),
  });
  const solveOpts = {
    ...opts,
    pull: { policy: opts.pull ?? "missing", insecureRegistries: opts.insecureRegistries ?? [] },
    exportsCache: (opts.cacheTo?.length ?? 0) > 0,
  };
  let solved;
  try {
    solved = await solveBuild(plan, solveOpts, { ...deps, abort, onStep: (m) => steps.push(m) });
  } catch (err) {
    recordFailure(opts.metricsFile, run, err);
    throw err;
  }
  const image = await writeOutputs(plan, solved, run, opts, { ...deps, signal: abort.signal });
  return {
    manifest: image.manifest,
    config: image.config,
    stats: stepStats(steps),
    durationMs: Date.now() - start,
  };
}
