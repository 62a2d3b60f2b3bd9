// The solve phase: run every stage the plan needs, each on the state its base gives, steps through the
// step runner, independent stages at once. It ends with the target's rootfs local (remote-cache hits
// fetched) and every cache record durable, ready for the outputs phase.
import { join } from "node:path";
import pLimit from "p-limit";
import { BuildStepError, DockerfileError, TsbuildError, messageOf } from "../../src/errors.js";
import type { Compression } from "../../src/oci/types.js";
import type { ProgressSink } from "../../src/progress/events.js";
import type { ContentStore } from "../../src/store/types.js";
import { chainIds, chainSnapshotName } from "../../snapshotter/chain.js";
import type { Snapshotter } from "../../snapshotter/types.js";
import type { XattrPolicy } from "../../snapshotter/layer/xattrs.js";
import { SandboxPool } from "../../native/sandbox.js";
import type { KeyScope } from "../cache/keys.js";
import { CacheRecords } from "../cache/records.js";
import type { RemoteCacheSession } from "../cache/remote/session.js";
import type { CacheImportSpec } from "../cache/remote/spec.js";
import type { SecretSource } from "../ops/mounts/secrets.js";
import type { SshSources } from "../ops/mounts/ssh.js";
import { takeOnBuildTriggers } from "../ops/onbuild.js";
import type { OpContext } from "../ops/op.js";
import { type RunLimits, sandboxLimits } from "../ops/run-limits.js";
import { mountFromRefs } from "../ops/run-mounts.js";
import { ImageUnpackError, type PullSettings, scratchState, stateFromStage } from "../ops/source.js";
import { type BuildPlan, countSteps } from "../plan/plan.js";
import { PLATFORM_ARGS } from "../plan/platform-args.js";
import { proxyEnvOf } from "../plan/proxy-args.js";
import type { StageState } from "../state.js";
import { type DispatchEnv, dispatchStage } from "./dispatch.js";
import { BaseImages, buildSources } from "./sources.js";
import { StageSolver } from "./stage-solver.js";
import type { StepMetrics } from "./step-metrics.js";
import { StepRunner } from "./step-runner.js";

export interface SolveOptions {
  noCache: boolean;
  jobs: number;
  compression: Compression;
  sourceDateEpoch?: number;
  /** `--layer-xattrs`: which extended attributes layers record (default "capability"). */
  layerXattrs?: XattrPolicy;
  secrets?: Record<string, SecretSource>;
  ssh?: SshSources;
  pull: PullSettings;
  /** `--cache-from`: caches whose records a local miss falls back to. */
  cacheFrom?: CacheImportSpec[];
  /** Whether the build exports its cache (`--cache-to`): the session then notes every record. */
  exportsCache: boolean;
  /** Every RUN's resource limits (not in the cache key: they bound a step, not what it makes). */
  runLimits?: RunLimits;
}

export interface SolveDeps {
  root: string;
  store: ContentStore;
  snapshotter: Snapshotter;
  progress: ProgressSink;
  /** Aborting it (a failed stage, Ctrl-C) cancels every step. */
  abort: AbortController;
  /** Each finished step's figures, as they come. */
  onStep: (m: StepMetrics) => void;
}

export interface Solved {
  /** The target stage's final state. */
  final: StageState;
  /** Every needed stage's final state, by index. */
  stages: Map<number, StageState>;
  /** Present with --cache-from or --cache-to: the records to export. */
  remoteCache?: RemoteCacheSession;
}

export async function solveBuild(plan: BuildPlan, opts: SolveOptions, deps: SolveDeps): Promise<Solved> {
  const { runSteps } = countSteps(plan);
  // With RUN steps to come, the first miss starts a sandbox for them (SandboxPool.prepare).
  const sandboxes = new SandboxPool(runSteps, sandboxLimits(opts.runLimits).cgroup);
  // --no-cache: every RUN will miss, so the first sandbox is made while the build sets itself up.
  if (opts.noCache) sandboxes.prepare();
  const cache = new CacheRecords(join(deps.root, "cache"));
  // A build killed while it wrote a record left its temp; one directory listing finds them.
  cache.sweepTemps();
  try {
    const remoteCache = await openRemoteCache(opts, deps, cache);
    const snapshotter = remoteCache?.snapshotter ?? deps.snapshotter;
    const solver = stageSolver(plan, opts, { ...deps, snapshotter }, cache, sandboxes, remoteCache?.session);
    let stages: Map<number, StageState>;
    try {
      stages = await solver.solve(plan.needed);
    } catch (err) {
      // The steps that did finish keep their records.
      await cache.flush().catch(() => undefined);
      throw err;
    }
    const final = stages.get(plan.target)!;
    await materialize(final, remoteCache?.session);
    await cache.flush();
    return { final, stages, remoteCache: remoteCache?.session };
  } finally {
    await sandboxes.close();
  }
}

/**
 * Remote hits leave their layers in the cache until something needs them: the image does. Its chain is
 * unpacked too, which writes the target's hits as local records: the next build finds them without
 * --cache-from (stages whose layers were never fetched run again then).
 */
async function materialize(final: StageState, session: RemoteCacheSession | undefined): Promise<void> {
  if (!session) return;
  await session.ensureBlobs(final.layers);
  for (const id of chainIds(final.config.rootfs.diff_ids))
    await session.ensureSnapshot(chainSnapshotName(id));
}

/** The remote cache session and, with --cache-from, the lazy snapshotter over the build's. */
async function openRemoteCache(
  opts: SolveOptions,
  deps: SolveDeps,
  cache: CacheRecords,
): Promise<{ session: RemoteCacheSession; snapshotter?: Snapshotter } | undefined> {
  if (!opts.exportsCache && !opts.cacheFrom?.length) return undefined;
  // Loaded only when asked for: the remote cache modules bring the registry client.
  const { RemoteCacheSession } = await import("../cache/remote/session.js");
  const { signal } = deps.abort;
  const session = new RemoteCacheSession({ ...deps, cache, signal });
  if (!opts.cacheFrom?.length || opts.noCache) return { session };
  await session.load(opts.cacheFrom, {
    insecureRegistries: opts.pull.insecureRegistries,
    progress: deps.progress,
    signal,
  });
  const { LazyRemoteSnapshotter } = await import("../cache/remote/lazy-snapshotter.js");
  return { session, snapshotter: new LazyRemoteSnapshotter(deps.snapshotter, session) };
}

function stageSolver(
  plan: BuildPlan,
  opts: SolveOptions,
  deps: SolveDeps,
  cache: CacheRecords,
  sandboxes: SandboxPool,
  remote: RemoteCacheSession | undefined,
): StageSolver {
  const { signal } = deps.abort;
  const images = new BaseImages({ ...deps, signal, pull: opts.pull });
  const solver: StageSolver = new StageSolver((i) => runStage(plan, i, env, images, solver), deps.abort);
  const ops: OpContext = {
    ...deps,
    signal,
    lex: plan.lex,
    sourceLines: plan.parsed.lines,
    sources: buildSources(plan, deps.root, images, (i) => solver.result(i)),
    sandboxes,
    runLimits: opts.runLimits,
    secrets: opts.secrets,
    ssh: opts.ssh,
    stageSums: remote,
    proxyEnv: proxyEnvOf(plan.buildArgs),
  };
  const runner = new StepRunner({
    ...deps,
    signal,
    cache,
    remote,
    sandboxes,
    scope: keyScope(opts),
  });
  let stepNo = 0;
  const env: DispatchEnv = {
    ops,
    runner,
    meta: {
      lex: plan.lex,
      buildArgs: plan.buildArgs,
      globalArgs: plan.globalArgs,
      sourceLines: plan.parsed.lines,
    },
    limit: pLimit(Math.max(1, opts.jobs)),
    nextStepId: () => `#${++stepNo}`,
    noCache: (i) => opts.noCache || plan.noCacheStages.has(i),
    onStep: deps.onStep,
  };
  return solver;
}

/** The settings of this build that every step's key includes (builder/cache/keys.ts). */
function keyScope(opts: SolveOptions): KeyScope {
  return {
    compression: opts.compression,
    ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
    platform: PLATFORM_ARGS.TARGETPLATFORM!,
    // Builds run as root only for now (rootless mode: issue 15).
    sandbox: "root",
    xattrs: opts.layerXattrs ?? "capability",
  };
}

async function runStage(
  plan: BuildPlan,
  index: number,
  env: DispatchEnv,
  images: BaseImages,
  solver: StageSolver,
): Promise<StageState> {
  const { stage, base } = plan.stages[index]!;
  const s =
    base.kind === "scratch"
      ? scratchState()
      : base.kind === "stage"
        ? stateFromStage(await solver.result(base.index))
        : await imageBase(plan, index, images, env.ops);
  // RUN --mount from= stages are awaited here, outside the step limiter, so waiting never holds a slot.
  await Promise.all(
    mountFromRefs(stage.commands)
      .filter((ref) => !env.ops.sources.named(ref))
      .map((ref) => env.ops.sources.state(ref).catch(() => undefined)),
  );
  // ONBUILD triggers of a base image run first (BuildKit's behaviour for images, not for stages).
  const triggers = base.kind === "image" ? takeOnBuildTriggers(s, stage, plan.buildArgs) : [];
  return dispatchStage(
    triggers.length ? { ...stage, commands: [...triggers, ...stage.commands] } : stage,
    s,
    env,
  );
}

/** A stage's base image, or an error at its FROM line. */
async function imageBase(
  plan: BuildPlan,
  index: number,
  images: BaseImages,
  ops: OpContext,
): Promise<StageState> {
  const { stage, base } = plan.stages[index]!;
  const lines = plan.parsed.lines;
  let img: StageState | undefined;
  try {
    // The base's ref: the FROM name, or the image a `--build-context NAME=docker-image://…` gives it.
    img = await images.state(base.kind === "image" ? base.ref : stage.baseName);
  } catch (err) {
    if (err instanceof DockerfileError) throw err;
    const detail = `FROM ${stage.baseName}: ${messageOf(err)}`;
    // Found but not unpacked (a full disk…), or any error no lower boundary named: the build failed.
    if (err instanceof ImageUnpackError || !(err instanceof TsbuildError)) {
      const { file, startLine } = stage.location;
      throw new BuildStepError(`${file}:${startLine}: ${detail}`, stage.location, { cause: err });
    }
    // Not found, or not fetched: the Dockerfile names an image there is not.
    throw new DockerfileError(stage.location, detail, lines, { cause: err });
  }
  if (img) return img;
  const hint = ops.sources.named(stage.baseName)
    ? " (a named build context works with COPY --from, not FROM)"
    : "";
  throw new DockerfileError(
    stage.location,
    `FROM ${stage.baseName}: no stage or local image of that name${hint}`,
    lines,
  );
}
