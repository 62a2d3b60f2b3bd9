// `--metrics-file`: every step's figures (builder/solve/step-metrics.ts) and the build's outcome as one
// JSON document, written atomically so a reader never sees half of it.
import { writeFileAtomic } from "../../src/util/atomic.js";
import type { StepMetrics } from "../solve/step-metrics.js";

export interface BuildOutcome {
  ok: boolean;
  error?: string;
  imageDigest?: string;
}

export function writeMetricsFile(
  path: string,
  run: { start: number; end: number; steps: readonly StepMetrics[] },
  outcome: BuildOutcome,
): void {
  const steps = [...run.steps].sort((a, b) => a.start - b.start);
  const cached = steps.filter((s) => s.cached).length;
  const doc = {
    version: 1,
    start: run.start,
    end: run.end,
    durationMs: run.end - run.start,
    ...outcome,
    summary: {
      steps: steps.length,
      cached,
      hitRate: steps.length ? cached / steps.length : 0,
      savedMs: steps.reduce((n, s) => n + (s.savedMs ?? 0), 0),
    },
    steps,
  };
  writeFileAtomic(path, `${JSON.stringify(doc, null, 2)}\n`);
}
