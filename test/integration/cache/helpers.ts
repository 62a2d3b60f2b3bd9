// Shared by the cache, prune and solver tests: a busybox base stage and readers for build results.
import { readFileSync } from "node:fs";
import { stepOutcomes } from "../../helpers/tsbuild.js";
import type { StepMetrics } from "../../../builder/solve/step-metrics.js";

export const BUSYBOX = ["--build-context", "busybox-bin=/bin"];

/** A first stage `base` with busybox installed; other stages build FROM it. */
export const BASE_STAGE = [
  "FROM scratch AS base",
  "COPY --from=busybox-bin busybox /bin/busybox",
  'RUN ["/bin/busybox","--install","-s","/bin"]',
].join("\n");

/** Instruction text → outcome, from plain progress (the "[stage n/m] " prefix dropped). */
export function outcomesByInstruction(stderr: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of stepOutcomes(stderr)) {
    const instruction = s.name.replace(/^\[[^\]]*\] /, "");
    if (instruction in out)
      throw new Error(`instruction ${instruction} appears twice: make test steps unique`);
    out[instruction] = s.outcome;
  }
  return out;
}

/** The instructions that ran (not CACHED), sorted. */
export function rebuilt(stderr: string): string[] {
  return Object.entries(outcomesByInstruction(stderr))
    .filter(([, o]) => o !== "CACHED")
    .map(([i]) => i)
    .sort();
}

/** A step of the metrics file, as builder/metrics.ts writes it. */
export type MetricsStep = StepMetrics;

export interface MetricsDoc {
  start: number;
  end: number;
  ok: boolean;
  summary: { steps: number; cached: number; hitRate: number };
  steps: MetricsStep[];
}

export function readMetrics(path: string): MetricsDoc {
  return JSON.parse(readFileSync(path, "utf8")) as MetricsDoc;
}

export { unfinishedSnapshots } from "../../helpers/tsbuild.js";
