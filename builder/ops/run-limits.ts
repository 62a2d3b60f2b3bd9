// The resource limits every RUN of a build gets (`tsbuild build --memory …`, docker's and buildah's
// flags and meanings), as the sandbox spec carries them, and how a RUN that hit one is reported.
// Which limits only warn when the host cannot apply them is decided here, once (docs/security.md).
import { sweepCgroups } from "../../native/index.js";
import type { CgroupLimits, SandboxResult, SandboxSpec, Ulimit } from "../../native/sandbox.js";

export type { Ulimit } from "../../native/sandbox.js";

/** The build's limits, checked (cli/limit-flags.ts parses them). Absent: not set. */
export interface RunLimits {
  /** `--memory`, bytes. */
  memory?: number;
  /** `--memory-swap`: memory plus swap, bytes; -1: unlimited swap. Unset with --memory: twice it. */
  memorySwap?: number;
  cpuShares?: number;
  /** `--cpu-period` / `--cpu-quota` in µs; `--cpus N` becomes period 100000, quota N × 100000. */
  cpuPeriod?: number;
  cpuQuota?: number;
  /** `--cpuset-cpus`: "0-1,3". */
  cpusetCpus?: string;
  /** `--pids-limit`; 0: none. Unset: DEFAULT_PIDS_LIMIT. */
  pidsLimit?: number;
  blkioWeight?: number;
  ulimits?: Ulimit[];
  /** `--shm-size`, bytes of the RUN's /dev/shm (default 64 MiB, as Docker's). */
  shmSize?: number;
}

/** Every RUN's process count is capped unless the build says otherwise: a fork bomb's guard. */
export const DEFAULT_PIDS_LIMIT = 4096;

/**
 * The sandbox spec's limit fields. A limit the user asked for is a promise: one the host cannot apply
 * fails the RUN. Only these may be dropped with a warning: the default pids guard, the swap limit
 * derived from --memory, and the relative weights (--cpu-shares, --blkio-weight), which bound nothing.
 */
export function sandboxLimits(l: RunLimits = {}): Pick<SandboxSpec, "cgroup" | "ulimits" | "shmSize"> {
  const bestEffort: string[] = ["cpuShares", "blkioWeight"];
  const cgroup: CgroupLimits = { bestEffort };
  if (l.memory !== undefined) cgroup.memoryLimit = l.memory;
  if (l.memorySwap !== undefined) cgroup.memorySwapLimit = l.memorySwap;
  else if (l.memory !== undefined) {
    cgroup.memorySwapLimit = 2 * l.memory;
    bestEffort.push("memorySwapLimit");
  }
  if (l.cpuShares !== undefined) cgroup.cpuShares = l.cpuShares;
  if (l.cpuPeriod !== undefined) cgroup.cpuPeriod = l.cpuPeriod;
  if (l.cpuQuota !== undefined) cgroup.cpuQuota = l.cpuQuota;
  if (l.cpusetCpus !== undefined) cgroup.cpusetCpus = l.cpusetCpus;
  if (l.blkioWeight !== undefined) cgroup.blkioWeight = l.blkioWeight;
  const pids = l.pidsLimit ?? DEFAULT_PIDS_LIMIT;
  if (pids > 0) cgroup.pidsLimit = pids;
  if (l.pidsLimit === undefined) bestEffort.push("pidsLimit");
  return {
    cgroup,
    ...(l.ulimits?.length ? { ulimits: l.ulimits } : {}),
    ...(l.shmSize !== undefined ? { shmSize: l.shmSize } : {}),
  };
}

/**
 * Removes the RUN cgroups that launchers killed with SIGKILL left (issue 19 #9): at every build start
 * and prune. Each is named after its owner, so a concurrent build's are left alone. Never fails.
 */
export function sweepStaleCgroups(): void {
  try {
    sweepCgroups();
  } catch {
    // no addon or no cgroups: nothing of ours to sweep
  }
}

/** 268435456 → "256MiB", as the OOM message shows a limit. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [
    ["GiB", 1024 ** 3],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
  ] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return n >= 1024 ** 2 ? `${(n / 1024 ** 2).toFixed(1)}MiB` : `${n}B`;
}

/**
 * Why a RUN that hit a limit failed, or undefined when it hit none. Either fails the step even when
 * the command exited 0: a process was killed, or a fork was refused, so its result is not the
 * command's. The OOM kill names the limit (the caller's own cgroup's or the host's when the build set none).
 */
export function limitFailure(r: SandboxResult, l: RunLimits = {}): string | undefined {
  if (r.oomKills > 0) {
    const limit = l.memory !== undefined ? `limit ${formatBytes(l.memory)}` : "no --memory limit set";
    return `killed: out of memory (${limit})`;
  }
  if (r.pidsDenied > 0) {
    const limit = l.pidsLimit ?? DEFAULT_PIDS_LIMIT;
    const forks = r.pidsDenied === 1 ? "1 fork" : `${r.pidsDenied} forks`;
    const which = limit > 0 ? `--pids-limit ${limit}` : "no --pids-limit set";
    return `stopped: process limit reached (${which}; ${forks} refused)`;
  }
  return undefined;
}
