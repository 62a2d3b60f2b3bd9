// What a RUN's process tree used, from the sandbox's result: the figures the metrics file reports.
import type { SandboxResult } from "../../native/sandbox.js";

/** From the RUN's cgroup when the sandbox had one, else from rusage. */
export interface RunUsage {
  peakMemoryBytes: number;
  cpuMs: number;
  source: "cgroup" | "rusage";
}

export function runUsage(r: SandboxResult): RunUsage {
  if (r.memoryPeakBytes !== null && r.memoryPeakBytes >= 0 && r.cpuUsageNs !== null && r.cpuUsageNs >= 0) {
    return { peakMemoryBytes: r.memoryPeakBytes, cpuMs: Math.round(r.cpuUsageNs / 1e6), source: "cgroup" };
  }
  return { peakMemoryBytes: r.maxRssKb * 1024, cpuMs: r.cpuUserMs + r.cpuSystemMs, source: "rusage" };
}
