// The figures of one step, as the step runner returns them and `--metrics-file` lists them: what ran or
// came from the cache, when, how big its layer is and what a RUN cost. Timestamps are epoch ms, so
// that tools (and the tests that prove stages overlap) can compare steps of different stages directly.
import type { RunUsage } from "../ops/run-usage.js";

export type { RunUsage } from "../ops/run-usage.js";

export interface StepMetrics {
  id: string;
  stage: string;
  instruction: string;
  /** 1-based line of the instruction in the Dockerfile. */
  line: number;
  cacheKey?: string;
  cached: boolean;
  /** Epoch ms when the step got its slot and when it finished. */
  start: number;
  end: number;
  durationMs: number;
  /** Compressed size of the step's layer; 0 when the step changed nothing. */
  layerBytes: number;
  /** For a RUN that ran (not for a cache hit): peak memory and CPU time (user + system). */
  peakMemoryBytes?: number;
  cpuMs?: number;
  usageSource?: RunUsage["source"];
  /** For a RUN that ran: most processes at once, bytes read from and dirtied for the disk. */
  pidsPeak?: number;
  blockReadBytes?: number;
  blockWriteBytes?: number;
  /** For a hit: how long the step took when it originally ran. */
  savedMs?: number;
}

/** A RUN's usage as the metrics file lists it. */
export function usageFigures(u: RunUsage): Partial<StepMetrics> {
  return {
    peakMemoryBytes: u.peakMemoryBytes,
    cpuMs: u.cpuMs,
    usageSource: u.source,
    ...(u.pidsPeak !== undefined ? { pidsPeak: u.pidsPeak } : {}),
    blockReadBytes: u.blockReadBytes,
    blockWriteBytes: u.blockWriteBytes,
  };
}

/** The build's totals so far (the progress summary). */
export interface StepStats {
  steps: number;
  cached: number;
  savedMs: number;
}
