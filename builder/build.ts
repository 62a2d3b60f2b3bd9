// One build: Dockerfile + context in, a tagged image in the store (and optional exports) out.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import pLimit from "p-limit";
import { DockerfileError, TsbuildError, UsageError } from "../src/errors.js";
import { writeImage } from "../src/image/write.js";
import type { Compression, Descriptor, ImageConfig } from "../src/oci/types.js";
import { familiarName, normalizeImageName } from "../src/oci/reference.js";
import { markInUse } from "../src/store/gc/in-use.js";
import type { ProgressSink } from "../src/progress/events.js";
import type { ContentStore } from "../src/store/types.js";
import type { Snapshotter } from "../snapshotter/types.js";
import { CacheRecords } from "./cache/records.js";
import type { RemoteCacheSession } from "./cache/remote/session.js";
import type { CacheExportSpec, CacheImportSpec } from "./cache/remote/spec.js";
import { ContextHasher } from "./context/checksum.js";
import { PatternMatcher, readIgnoreFile } from "./context/dockerignore.js";
import { type DispatchEnv, type StepStats, dispatchStage, isLayerStep } from "./dispatch.js";
import { resolveStage, stageDependencies, toStageSet } from "./dockerfile/commands.js";
import { parseDockerfile } from "./dockerfile/parser.js";
import { BuildMetrics } from "./metrics.js";
import { ShellLex } from "./dockerfile/shell.js";
import type { Stage, StageSet } from "./dockerfile/types.js";
import type { OpContext, PullPolicy } from "./ops/context.js";
import type { SecretSource } from "./ops/mounts/secrets.js";
import type { SshSources } from "./ops/mounts/ssh.js";
import { takeOnBuildTriggers } from "./ops/onbuild.js";
import { mountFromRefs } from "./ops/run-mounts.js";
import { checkDockerfile } from "./dockerfile/checks.js";
import type { CopySources, SourceDir } from "./ops/file.js";
import { scratchState, stateFromImage, stateFromStage } from "./ops/source.js";
import { StageSolver, neededStages } from "./solver.js";
import { type StageState, cloneState } from "./state.js";
import { SandboxPool } from "../native/sandbox.js";
import { chainIds } from "../src/oci/digest.js";
import { chainSnapshotName } from "../snapshotter/unpack.js";

/** BuildKit's predefined platform ARGs (a declared `ARG TARGETARCH` gets its value from here). */
const PLATFORM_ARGS: Record<string, string> = {
  TARGETPLATFORM: "linux/amd64",
  TARGETOS: "linux",
  TARGETARCH: "amd64",
  TARGETVARIANT: "",
  BUILDPLATFORM: "linux/amd64",
  BUILDOS: "linux",
  BUILDARCH: "amd64",
  BUILDVARIANT: "",
};

export interface BuildOptions {
  contextDir: string;
  /** Path of the Dockerfile; default CONTEXT/Dockerfile. */
  dockerfile?: string;
  tags: string[];
  buildArgs: Record<string, string>;
  target?: string;
  noCache: boolean;
  /** Named contexts: `--build-context name=dir`. */
  buildContexts: Record<string, string>;
  /** `-o type=oci,dest=FILE`. */
  ociArchive?: string;
  jobs: number;
  compression: Compression;
  sourceDateEpoch?: number;
  /** Stage names (or indexes) whose steps skip the cache: `--no-cache-filter`. */
  noCacheFilter?: string[];
  /** Where to write per-step metrics as JSON: `--metrics-file`. */
  metricsFile?: string;
  /** `--secret id=X,src=FILE|env=VAR`, by id, for RUN --mount=type=secret. */
  secrets?: Record<string, SecretSource>;
  /** `--ssh ID[=SOCKET]`: ssh-agent sockets by id, for RUN --mount=type=ssh. */
  ssh?: SshSources;
  /** When base images are pulled: missing (default), always (`--pull`), never (`--pull=never`). */
  pull?: PullPolicy;
  /** Registries reached over plain HTTP besides loopback: `--insecure-registry`. */
  insecureRegistries?: string[];
  /** Push every tag to its registry after the build: `--push`. */
  push?: boolean;
  /** `--cache-to`: export the build's cache records and layers to a registry or an OCI layout dir. */
  cacheTo?: CacheExportSpec[];
  /** `--cache-from`: caches whose records a local miss falls back to (layers fetched on a hit only). */
  cacheFrom?: CacheImportSpec[];
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

/** Runs one build while the store is marked in use, so that a concurrent prune leaves its inputs alone. */
export async function build(opts: BuildOptions, deps: BuildDeps): Promise<BuildResult> {
  const release = await markInUse(deps.root);
  try {
    return await buildInStore(opts, deps);
  } finally {
    release();
  }
}

async function buildInStore(opts: BuildOptions, deps: BuildDeps): Promise<BuildResult> {
  const started = Date.now();
  const metrics = new BuildMetrics(started);
  const contextDir = resolve(opts.contextDir);
  if (!existsSync(contextDir)) throw new UsageError(`build context ${contextDir}: no such directory`);
  const dockerfilePath = resolve(opts.dockerfile ?? join(contextDir, "Dockerfile"));
  let text: string;
  try {
    text = readFileSync(dockerfilePath, "utf8");
  } catch {
    throw new UsageError(`Dockerfile ${dockerfilePath}: cannot read it (does it exist?)`);
  }
  const parsed = parseDockerfile(text, basename(dockerfilePath));
  const buildArgs = { ...PLATFORM_ARGS, ...opts.buildArgs };
  const set = toStageSet(parsed, { buildArgs });
  const target = resolveStage(set, opts.target);
  const needed = neededStages(target, stageDependencies(set));
  const lex = new ShellLex(parsed.directives.escape);
  const globalArgs = resolveGlobalArgs(set.metaArgs, buildArgs, lex, parsed.lines);
  for (const w of parsed.warnings) deps.progress.emit({ type: "warning", code: w.code, message: w.message });

  const abort = new AbortController();
  deps.signal?.addEventListener("abort", () => abort.abort(deps.signal?.reason), { once: true });
  // With RUN steps to come, the first miss starts a sandbox for them (SandboxPool.prepare).
  const sandboxes = new SandboxPool(
    [...needed].reduce(
      (n, i) => n + (set.stages[i]?.commands.filter((c) => c.kind === "RUN").length ?? 0),
      0,
    ),
  );
  // --no-cache: every RUN will miss, so the first sandbox is made while the build sets itself up.
  if (opts.noCache) sandboxes.prepare();
  const ctx: OpContext = {
    sandboxes,
    store: deps.store,
    snapshotter: deps.snapshotter,
    cache: new CacheRecords(join(deps.root, "cache")),
    progress: deps.progress,
    signal: abort.signal,
    compression: opts.compression,
    sourceDateEpoch: opts.sourceDateEpoch,
    noCache: opts.noCache,
    root: deps.root,
    secrets: opts.secrets,
    ssh: opts.ssh,
    lex,
    pull: { policy: opts.pull ?? "missing", insecureRegistries: opts.insecureRegistries ?? [] },
  };
  // Remote cache modules (and the registry client) load only when a --cache-to/--cache-from asks for them.
  let remoteCache: RemoteCacheSession | undefined;
  if (opts.cacheTo?.length || opts.cacheFrom?.length) {
    const { RemoteCacheSession } = await import("./cache/remote/session.js");
    remoteCache = new RemoteCacheSession();
    ctx.remoteCache = remoteCache;
    if (opts.cacheFrom?.length && !opts.noCache) {
      await remoteCache.load(opts.cacheFrom, deps.store, {
        insecureRegistries: opts.insecureRegistries,
        progress: deps.progress,
        signal: abort.signal,
      });
      const { LazyRemoteSnapshotter } = await import("./cache/remote/lazy-snapshotter.js");
      ctx.snapshotter = new LazyRemoteSnapshotter(deps.snapshotter, remoteCache, () => ctx);
    }
  }
  // One lookup (and at most one pull and unpack) per image name per build, however many stages use it;
  // each user gets its own copy of the state.
  const images = new Map<string, Promise<StageState | undefined>>();
  const imageState = async (ref: string): Promise<StageState | undefined> => {
    let p = images.get(ref);
    if (!p) images.set(ref, (p = stateFromImage(ref, ctx)));
    const st = await p;
    return st && cloneState(st);
  };
  mkdirSync(join(deps.root, "cache", "checksums"), { recursive: true });
  const sourceDir = (root: string, ignore: boolean): SourceDir => {
    const matcher = ignore ? new PatternMatcher(readIgnoreFile(root, dockerfilePath)) : undefined;
    const memo = join(
      deps.root,
      "cache",
      "checksums",
      `${createHash("sha256").update(root).digest("hex")}.json`,
    );
    return { root, matcher, hasher: new ContextHasher(root, matcher, memo) };
  };
  const named = new Map(
    Object.entries(opts.buildContexts).map(([k, dir]) => [k, sourceDir(resolve(dir), false)]),
  );

  const stats: StepStats = { steps: 0, cached: 0, savedMs: 0 };
  let stepNo = 0;
  const runStage = async (stage: Stage): Promise<StageState> => {
    const base = await baseState(stage);
    // RUN --mount from= stages are awaited here, outside the step limiter, so waiting never holds a slot.
    await Promise.all(
      mountFromRefs(stage.commands)
        .filter((ref) => !named.has(ref))
        .map((ref) => sources.state(ref).catch(() => undefined)),
    );
    const fromImage =
      stage.baseName.toLowerCase() !== "scratch" &&
      !((solver.indexOf(stage.baseName) ?? stage.index) < stage.index);
    const triggers = fromImage ? takeOnBuildTriggers(base, stage, buildArgs) : [];
    return dispatchStage(
      triggers.length ? { ...stage, commands: [...triggers, ...stage.commands] } : stage,
      base,
      env,
      stats,
    );
  };
  const solver = new StageSolver(set, runStage, abort);
  const noCacheStages = new Set(
    (opts.noCacheFilter ?? []).map((ref) => {
      const i = solver.indexOf(ref);
      if (i === undefined) throw new UsageError(`--no-cache-filter ${ref}: no stage of that name`);
      return i;
    }),
  );
  const sources: CopySources = {
    context: sourceDir(contextDir, true),
    named: (ref) => named.get(ref),
    state: async (ref) => {
      const i = solver.indexOf(ref);
      return i !== undefined ? solver.result(i) : imageState(ref);
    },
  };
  ctx.mountSources = sources;
  const env: DispatchEnv = {
    ctx,
    sources,
    lex,
    buildArgs,
    globalArgs,
    sourceLines: parsed.lines,
    limit: pLimit(Math.max(1, opts.jobs)),
    nextStepId: () => `#${++stepNo}`,
    noCacheStages,
    metrics,
  };
  const baseState = async (stage: Stage): Promise<StageState> => {
    if (stage.baseName.toLowerCase() === "scratch") return scratchState();
    const i = solver.indexOf(stage.baseName);
    if (i !== undefined && i < stage.index) return stateFromStage(await solver.result(i));
    let img: StageState | undefined;
    try {
      img = await imageState(stage.baseName);
    } catch (err) {
      if (!(err instanceof TsbuildError) || err instanceof DockerfileError) throw err;
      throw new DockerfileError(stage.location, `FROM ${stage.baseName}: ${err.message}`, parsed.lines);
    }
    if (img) return img;
    const hint = named.has(stage.baseName) ? " (a named build context works with COPY --from, not FROM)" : "";
    throw new DockerfileError(
      stage.location,
      `FROM ${stage.baseName}: no stage or local image of that name${hint}`,
      parsed.lines,
    );
  };

  deps.progress.emit({
    type: "build-start",
    steps: countSteps(set.stages, needed),
    target: set.stages[target]?.name ?? String(target),
  });
  let final: StageState;
  try {
    final = await solver.solve(needed, target);
  } catch (err) {
    const error = (err as Error).message;
    if (opts.metricsFile) metrics.write(opts.metricsFile, Date.now(), { ok: false, error });
    // The steps that did finish keep their records.
    await ctx.cache.flush().catch(() => undefined);
    throw err;
  } finally {
    await sandboxes.close();
  }

  // Remote hits leave their layers in the cache until something needs them: the image does. Its
  // chain is unpacked too, which writes the target's hits as local records: the next build finds
  // them without --cache-from (stages whose layers were never fetched run again then).
  if (remoteCache) {
    await remoteCache.ensureBlobs(ctx, final.layers);
    for (const id of chainIds(final.config.rootfs.diff_ids))
      await remoteCache.ensureSnapshot(ctx, chainSnapshotName(id));
  }
  await ctx.cache.flush();
  const config = structuredClone(final.config);
  config.created = final.lastCreated;
  const manifest = await writeImage(deps.store, { config, layers: final.layers });
  const names = opts.tags.map(normalizeImageName);
  for (const name of names) await deps.store.setImage(name, manifest);
  if (opts.ociArchive) {
    const { exportOciArchive } = await import("../src/output/oci-archive.js");
    await exportOciArchive(
      deps.store,
      names.length
        ? names.map((name) => ({ name, target: manifest }))
        : [{ name: "latest", target: manifest }],
      opts.ociArchive,
    );
  }
  if (opts.push) {
    if (names.length === 0) throw new UsageError("--push needs at least one -t NAME to push to");
    const { pushImage } = await import("../src/registry/push.js");
    for (const name of names) {
      deps.progress.emit({ type: "info", message: `pushing ${name}` });
      await pushImage(deps.store, name, undefined, {
        insecureRegistries: opts.insecureRegistries,
        progress: deps.progress,
        signal: abort.signal,
      });
    }
  }
  if (remoteCache && opts.cacheTo?.length) {
    const { exportCache } = await import("./cache/remote/export.js");
    for (const spec of opts.cacheTo) {
      // mode=min: the target's chain; mode=max: every stage this build ran.
      const states =
        spec.mode === "max" ? await Promise.all([...needed].map((i) => solver.result(i))) : [final];
      await exportCache(spec, {
        store: deps.store,
        session: remoteCache,
        states,
        progress: deps.progress,
        signal: abort.signal,
        insecureRegistries: opts.insecureRegistries,
      });
    }
  }
  // Build checks (BuildKit's lint rules) are reported after the build, as BuildKit does.
  for (const w of checkDockerfile(parsed)) {
    deps.progress.emit({
      type: "warning",
      code: w.code,
      message: w.message,
      location: w.location ? `${w.location.file}:${w.location.startLine}` : undefined,
    });
  }
  const durationMs = Date.now() - started;
  const imageDigest = manifest.digest;
  if (opts.metricsFile) metrics.write(opts.metricsFile, started + durationMs, { ok: true, imageDigest });
  deps.progress.emit({
    type: "build-done",
    steps: stats.steps,
    cached: stats.cached,
    durationMs,
    imageDigest: manifest.digest,
    imageName: names[0] && familiarName(names[0]),
    savedMs: stats.savedMs,
  });
  return { manifest, config, stats, durationMs };
}

function countSteps(stages: Stage[], needed: Set<number>): number {
  let n = 0;
  for (const i of needed) {
    for (const c of stages[i]?.commands ?? []) if (isLayerStep(c)) n++;
  }
  return n;
}

/** Global ARG values: a --build-arg wins over the default; defaults may use earlier global ARGs. */
function resolveGlobalArgs(
  metaArgs: StageSet["metaArgs"],
  buildArgs: Record<string, string>,
  lex: ShellLex,
  lines: string[],
): Map<string, string> {
  const out = new Map<string, string>();
  for (const cmd of metaArgs) {
    for (const a of cmd.args) {
      let v = buildArgs[a.key];
      if (v === undefined && a.value !== undefined) {
        try {
          v = lex.processWord(a.value, (n) => out.get(n));
        } catch (err) {
          throw new DockerfileError(cmd.location, `ARG: ${(err as Error).message}`, lines);
        }
      }
      if (v !== undefined) out.set(a.key, v);
    }
  }
  return out;
}
