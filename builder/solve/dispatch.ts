// Runs one stage's instructions in order over its state. Config-only instructions change the state
// directly (ops/meta.ts); layer steps become ops that the step runner looks up or runs, under the
// build's limit on steps at once.
import type { LimitFunction } from "p-limit";
import type { Command, Stage } from "../dockerfile/types.js";
import { copyOp } from "../ops/copy-op.js";
import { type MetaCommand, type MetaContext, applyMeta } from "../ops/meta.js";
import type { LayerOp, OpContext } from "../ops/op.js";
import { runOp } from "../ops/run-op.js";
import { workdirOp } from "../ops/workdir-op.js";
import { isLayerStep } from "../plan/plan.js";
import type { StageState } from "../state.js";
import type { StepMetrics } from "./step-metrics.js";
import type { StepRunner } from "./step-runner.js";

export interface DispatchEnv {
  ops: OpContext;
  runner: StepRunner;
  meta: MetaContext;
  /** Bounds how many layer steps (sandboxes, copies) run at once across all stages. */
  limit: LimitFunction;
  nextStepId: () => string;
  /** Whether the stage's steps skip the cache (--no-cache, --no-cache-filter). */
  noCache: (stageIndex: number) => boolean;
  /** Each finished step's figures. */
  onStep: (m: StepMetrics) => void;
}

export async function dispatchStage(stage: Stage, s: StageState, env: DispatchEnv): Promise<StageState> {
  const label = stage.name ?? `stage-${stage.index}`;
  const total = stage.commands.filter((c) => isLayerStep(c.kind)).length;
  const noCache = env.noCache(stage.index);
  // SOURCE_DATE_EPOCH: meta steps before the first layer step date their history entries by it too.
  if (env.runner.historyTime) s.lastCreated = env.runner.historyTime;
  let index = 0;
  for (const cmd of stage.commands) {
    env.ops.signal.throwIfAborted();
    // WORKDIR is both: it changes the config, then makes its directory exist (a layer step).
    if (cmd.kind === "WORKDIR" || !isLayerStep(cmd.kind)) applyMeta(cmd as MetaCommand, s, env.meta);
    if (!isLayerStep(cmd.kind)) continue;
    index++;
    await awaitCopySource(cmd, env.ops);
    const id = env.nextStepId();
    const step = {
      id,
      name: cmd.original,
      stage: label,
      index,
      total,
      line: cmd.location.startLine,
      file: cmd.location.file,
      noCache,
    };
    env.onStep(await env.limit(() => env.runner.run(step, s, () => layerOp(cmd, s, env.ops, id))));
  }
  return s;
}

/** A COPY --from waits for its stage outside the limiter, so waiting never holds a slot. */
async function awaitCopySource(cmd: Command, ops: OpContext): Promise<void> {
  if ((cmd.kind !== "COPY" && cmd.kind !== "ADD") || cmd.from === undefined) return;
  const ref = ops.lex.processWord(cmd.from, () => undefined);
  // A named context is a directory: nothing to wait for (and no image to look up or pull).
  if (!ops.sources.named(ref)) await ops.sources.state(ref).catch(() => undefined);
}

function layerOp(cmd: Command, s: StageState, ops: OpContext, id: string): Promise<LayerOp> {
  switch (cmd.kind) {
    case "RUN":
      return runOp(cmd, s, ops, id);
    case "COPY":
    case "ADD":
      return copyOp(cmd, s, ops);
    case "WORKDIR":
      return Promise.resolve(workdirOp(s.config.config.WorkingDir || "/"));
    default:
      throw new Error(`not a layer step: ${cmd.kind}`);
  }
}
