// Runs one stage's instructions in order over its state. The frontend's typed commands come in;
// layer-producing ones go to the ops, the rest only change the config.
import type { LimitFunction } from "p-limit";
import type { Command, Stage } from "./dockerfile/types.js";
import type { ShellLex } from "./dockerfile/shell.js";
import type { BuildMetrics, StepProbe } from "./metrics.js";
import type { OpContext } from "./ops/context.js";
import { execRun } from "./ops/exec.js";
import { type CopySources, execCopy, execWorkdirMkdir } from "./ops/file.js";
import { type MetaCommand, applyMeta } from "./ops/meta.js";
import type { StageState } from "./state.js";

export interface DispatchEnv {
  ctx: OpContext;
  sources: CopySources;
  lex: ShellLex;
  buildArgs: Record<string, string>;
  globalArgs: Map<string, string>;
  sourceLines: string[];
  /** Bounds how many layer steps (sandboxes, copies) run at once across all stages. */
  limit: LimitFunction;
  nextStepId: () => string;
  /** Stages (by index) whose steps never look in the cache: `--no-cache-filter`. */
  noCacheStages: Set<number>;
  metrics: BuildMetrics;
}

export interface StepStats {
  steps: number;
  cached: number;
  savedMs: number;
}

const LAYER_KINDS = new Set(["RUN", "COPY", "ADD", "WORKDIR"]);

export function isLayerStep(cmd: Command): boolean {
  return LAYER_KINDS.has(cmd.kind);
}

export async function dispatchStage(
  stage: Stage,
  s: StageState,
  env: DispatchEnv,
  stats: StepStats,
): Promise<StageState> {
  const label = stage.name ?? `stage-${stage.index}`;
  const total = stage.commands.filter(isLayerStep).length;
  const noCache = env.ctx.noCache || env.noCacheStages.has(stage.index);
  let n = 0;
  for (const cmd of stage.commands) {
    env.ctx.signal.throwIfAborted();
    // WORKDIR is both: it changes the config, then makes its directory exist (a layer step).
    if (cmd.kind === "WORKDIR" || !isLayerStep(cmd)) applyMeta(cmd as MetaCommand, s, env);
    if (!isLayerStep(cmd)) continue;
    n++;
    // A COPY --from waits for its stage outside the limiter, so waiting never holds a slot.
    if ((cmd.kind === "COPY" || cmd.kind === "ADD") && cmd.from !== undefined) {
      const ref = env.lex.processWord(cmd.from, () => undefined);
      // A named context is a directory: nothing to wait for (and no image to look up or pull).
      if (!env.sources.named(ref)) await env.sources.state(ref).catch(() => undefined);
    }
    const id = env.nextStepId();
    const name = cmd.original;
    const index = n;
    // Each step gets its own context: the probe collects its figures, noCache may differ per stage.
    const probe: StepProbe = {};
    const ctx = { ...env.ctx, noCache, step: probe };
    const result = await env.limit(async () => {
      // A step queued behind the limiter when the build failed must not start.
      ctx.signal.throwIfAborted();
      env.ctx.progress.emit({ type: "step-start", id, name, stage: label, index, total });
      const start = Date.now();
      try {
        const r = await runLayerCommand(cmd, s, { ...env, ctx }, id);
        return { ...r, start, end: Date.now() };
      } catch (err) {
        // A step stopped because another one failed is not this step's error.
        const message = ctx.signal.aborted && err === ctx.signal.reason ? "CANCELED" : (err as Error).message;
        env.ctx.progress.emit({ type: "step-error", id, name, message });
        throw err;
      }
    });
    stats.steps++;
    env.metrics.add({
      id,
      stage: label,
      instruction: name,
      line: cmd.location.startLine,
      cacheKey: probe.cacheKey,
      cached: result.cached,
      start: result.start,
      end: result.end,
      durationMs: result.end - result.start,
      layerBytes: probe.layerBytes ?? 0,
      ...(probe.run && !result.cached
        ? {
            peakMemoryBytes: probe.run.peakMemoryBytes,
            cpuMs: probe.run.cpuMs,
            usageSource: probe.run.source,
          }
        : {}),
      ...(result.cached ? { savedMs: result.durationMs } : {}),
    });
    if (result.cached) {
      stats.cached++;
      stats.savedMs += result.durationMs;
      env.ctx.progress.emit({ type: "step-cached", id, name, index, total, savedMs: result.durationMs });
    } else {
      env.ctx.progress.emit({ type: "step-done", id, name, durationMs: result.end - result.start });
    }
  }
  return s;
}

function runLayerCommand(cmd: Command, s: StageState, env: DispatchEnv, id: string) {
  switch (cmd.kind) {
    case "RUN":
      return execRun(cmd, s, env.ctx, { id, sourceLines: env.sourceLines });
    case "COPY":
    case "ADD":
      return execCopy(cmd, s, env.ctx, env.sources, { lex: env.lex, sourceLines: env.sourceLines });
    case "WORKDIR":
      return execWorkdirMkdir(s.config.config.WorkingDir || "/", s, env.ctx, cmd.original);
    default:
      throw new Error(`not a layer step: ${cmd.kind}`);
  }
}
