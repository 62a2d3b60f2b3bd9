// What a RUN's process tree used, from the sandbox's result: the figures the metrics file reports.
import type { SandboxResult } from "../../native/sandbox.js";

/** Memory and CPU from the RUN's cgroup when the sandbox had one, else from rusage. */
export interface RunUsage {
  peakMemoryBytes: number;
  cpuMs: number;
  source: "cgroup" | "rusage";
  /** Most processes at once (the pids cgroup); absent when unknown. */
  pidsPeak?: number;
  /** Bytes read from and dirtied for the disk (task I/O accounting). */
  blockReadBytes: number;
  blockWriteBytes: number;
}

export function runUsage(r: SandboxResult): RunUsage {
  const io = {
    ...(r.pidsPeak !== null && r.pidsPeak >= 0 ? { pidsPeak: r.pidsPeak } : {}),
    blockReadBytes: r.blockReadBytes,
    blockWriteBytes: r.blockWriteBytes,
  };
  if (r.memoryPeakBytes !== null && r.memoryPeakBytes >= 0 && r.cpuUsageNs !== null && r.cpuUsageNs >= 0) {
    return {
      peakMemoryBytes: r.memoryPeakBytes,
      cpuMs: Math.round(r.cpuUsageNs / 1e6),
      source: "cgroup",
      ...io,
    };
  }
  return { peakMemoryBytes: r.maxRssKb * 1024, cpuMs: r.cpuUserMs + r.cpuSystemMs, source: "rusage", ...io };
}
