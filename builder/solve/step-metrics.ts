// The figures of one step, as the step runner returns them and `--metrics-file` lists them: what ran or
// came from the cache, when, how big its layer is and what a RUN cost. Timestamps are epoch ms, so
// that tools (and the tests that prove stages overlap) can compare steps of different stages directly.
import type { SandboxResult } from "../../native/sandbox.js";

/** What a RUN's process tree used: from its cgroup when the sandbox had one, else from rusage. */
export interface RunUsage {
  peakMemoryBytes: number;
  cpuMs: number;
  source: "cgroup" | "rusage";
}

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
  /** For a hit: how long the step took when it originally ran. */
  savedMs?: number;
}

export function runUsage(r: SandboxResult): RunUsage {
  if (r.memoryPeakBytes !== null && r.memoryPeakBytes >= 0 && r.cpuUsageNs !== null && r.cpuUsageNs >= 0) {
    return { peakMemoryBytes: r.memoryPeakBytes, cpuMs: Math.round(r.cpuUsageNs / 1e6), source: "cgroup" };
  }
  return { peakMemoryBytes: r.maxRssKb * 1024, cpuMs: r.cpuUserMs + r.cpuSystemMs, source: "rusage" };
}

/** The build's totals so far (the progress summary). */
export interface StepStats {
  steps: number;
  cached: number;
  savedMs: number;
}
