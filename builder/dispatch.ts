// Runs one stage's instructions in order over its state. The frontend's typed commands come in;
// layer-producing ones go to the ops, the rest only change the config.
import type { LimitFunction } from "p-limit";
import type { Command, Stage } from "./dockerfile/types.js";
import type { ShellLex } from "./dockerfile/shell.js";
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

export async function dispatchStage(stage: Stage, s: StageState, env: DispatchEnv, stats: StepStats): Promise<StageState> {
  const label = stage.name ?? `stage-${stage.index}`;
  const total = stage.commands.filter(isLayerStep).length;
  let n = 0;
  for (const cmd of stage.commands) {
    env.ctx.signal.throwIfAborted();
    // WORKDIR is both: it changes the config, then makes its directory exist (a layer step).
    if (cmd.kind === "WORKDIR" || !isLayerStep(cmd)) applyMeta(cmd as MetaCommand, s, env);
    if (!isLayerStep(cmd)) continue;
    n++;
    // A COPY --from waits for its stage outside the limiter, so waiting never holds a slot.
    if ((cmd.kind === "COPY" || cmd.kind === "ADD") && cmd.from !== undefined) {
      await env.sources.state(env.lex.processWord(cmd.from, () => undefined)).catch(() => undefined);
    }
    const id = env.nextStepId();
    const name = cmd.original;
    const result = await env.limit(async () => {
      env.ctx.progress.emit({ type: "step-start", id, name, stage: label, index: n, total });
      const started = Date.now();
      try {
        const r = await runLayerCommand(cmd, s, env, id);
        return { ...r, wallMs: Date.now() - started };
      } catch (err) {
        env.ctx.progress.emit({ type: "step-error", id, name, message: (err as Error).message });
        throw err;
      }
    });
    stats.steps++;
    if (result.cached) {
      stats.cached++;
      stats.savedMs += result.durationMs;
      env.ctx.progress.emit({ type: "step-cached", id, name, index: n, total, savedMs: result.durationMs });
    } else {
      env.ctx.progress.emit({ type: "step-done", id, name, durationMs: result.wallMs });
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
