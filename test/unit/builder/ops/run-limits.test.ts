import { describe, expect, it } from "vitest";
import type { SandboxResult } from "../../../../native/sandbox.js";
import {
  DEFAULT_PIDS_LIMIT,
  formatBytes,
  limitFailure,
  sandboxLimits,
} from "../../../../builder/ops/run-limits.js";

const result = (r: Partial<SandboxResult>): SandboxResult => ({
  exitCode: 0,
  signal: null,
  maxRssKb: 1,
  cpuUserMs: 0,
  cpuSystemMs: 0,
  memoryPeakBytes: null,
  cpuUsageNs: null,
  pidsPeak: null,
  blockReadBytes: 0,
  blockWriteBytes: 0,
  oomKills: 0,
  pidsDenied: 0,
  ...r,
});

describe("sandboxLimits", () => {
  it("gives every RUN the 4096 pids guard, best effort, and nothing else", () => {
    expect(sandboxLimits()).toEqual({
      cgroup: { pidsLimit: DEFAULT_PIDS_LIMIT, bestEffort: ["cpuShares", "blkioWeight", "pidsLimit"] },
    });
    expect(DEFAULT_PIDS_LIMIT).toBe(4096);
  });

  it("--memory alone: swap twice it, best effort; an asked --pids-limit is a promise", () => {
    expect(sandboxLimits({ memory: 1000, pidsLimit: 10 }).cgroup).toEqual({
      memoryLimit: 1000,
      memorySwapLimit: 2000,
      pidsLimit: 10,
      bestEffort: ["cpuShares", "blkioWeight", "memorySwapLimit"],
    });
  });

  it("--pids-limit 0 sets none; ulimits and /dev/shm go beside the cgroup", () => {
    const l = sandboxLimits({ pidsLimit: 0, ulimits: [{ name: "nofile", soft: 1, hard: 2 }], shmSize: 4096 });
    expect(l.cgroup).toEqual({ bestEffort: ["cpuShares", "blkioWeight"] });
    expect(l.ulimits).toEqual([{ name: "nofile", soft: 1, hard: 2 }]);
    expect(l.shmSize).toBe(4096);
  });
});

describe("limitFailure", () => {
  it("names the OOM kill and the limit, even when the command exited 0", () => {
    expect(limitFailure(result({ oomKills: 1 }), { memory: 64 << 20 })).toBe(
      "killed: out of memory (limit 64MiB)",
    );
    expect(limitFailure(result({ oomKills: 2 }))).toBe("killed: out of memory (no --memory limit set)");
  });

  it("names the pids limit and how many forks it refused", () => {
    expect(limitFailure(result({ pidsDenied: 1 }))).toBe(
      "stopped: process limit reached (--pids-limit 4096; 1 fork refused)",
    );
    expect(limitFailure(result({ pidsDenied: 7 }), { pidsLimit: 64 })).toBe(
      "stopped: process limit reached (--pids-limit 64; 7 forks refused)",
    );
  });

  it("is undefined for a RUN that hit nothing", () => {
    expect(limitFailure(result({ exitCode: 3 }))).toBeUndefined();
  });
});

describe("formatBytes", () => {
  it("uses the largest unit that divides exactly", () => {
    expect([1 << 30, 256 << 20, 6 << 20, 5 << 19, 1536, 100].map(formatBytes)).toEqual([
      "1GiB",
      "256MiB",
      "6MiB",
      "2560KiB",
      "1536B",
      "100B",
    ]);
    expect(formatBytes((64 << 20) + 1)).toBe("64.0MiB");
  });
});
