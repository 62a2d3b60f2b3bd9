// Per-step figures of one build, for `--metrics-file`: what ran or came from the cache, when, how
// big its layer is and what a RUN cost. Timestamps are epoch ms, so that tools (and the tests that
// prove stages overlap) can compare steps of different stages directly.
import { writeFileAtomic } from "../src/util/atomic.js";
import type { SandboxResult } from "../native/sandbox.js";

/** What a RUN's process tree used: from its cgroup when the sandbox had one, else from rusage. */
export interface RunUsage {
  peakMemoryBytes: number;
  cpuMs: number;
  source: "cgroup" | "rusage";
}

/**
 * Filled in by the ops while one step runs (the step's own OpContext carries it), so the ops report
 * their key, layer and resource use without returning them through every signature.
 */
export interface StepProbe {
  cacheKey?: string;
  layerBytes?: number;
  run?: RunUsage;
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

export class BuildMetrics {
  private readonly steps: StepMetrics[] = [];

  constructor(readonly start: number) {}

  add(step: StepMetrics): void {
    this.steps.push(step);
  }

  /** Writes the JSON document (atomically: a reader never sees half of it). */
  write(path: string, end: number, outcome: { ok: boolean; error?: string; imageDigest?: string }): void {
    const steps = [...this.steps].sort((a, b) => a.start - b.start);
    const cached = steps.filter((s) => s.cached).length;
    const doc = {
      version: 1,
      start: this.start,
      end,
      durationMs: end - this.start,
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
}
