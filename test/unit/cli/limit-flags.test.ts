import { cpus } from "node:os";
import { describe, expect, it } from "vitest";
import { parseLimitFlags, parseUlimit } from "../../../cli/limit-flags.js";

const none = { ulimit: [] as string[] };

describe("parseLimitFlags", () => {
  it("sets nothing without flags (the defaults are decided by builder/ops/run-limits.ts)", () => {
    expect(parseLimitFlags(none)).toEqual({});
  });

  it("takes docker's sizes and turns --cpus into a quota per 100 ms", () => {
    expect(
      parseLimitFlags({
        ...none,
        memory: "64m",
        memorySwap: "-1",
        cpus: "0.5",
        cpusetCpus: "0, 1",
        shmSize: "1g",
      }),
    ).toEqual({
      memory: 64 << 20,
      memorySwap: -1,
      cpuPeriod: 100000,
      cpuQuota: 50000,
      cpusetCpus: "0,1",
      shmSize: 1 << 30,
    });
  });

  it("--pids-limit -1 and 0 both mean none (0 in the result)", () => {
    expect(parseLimitFlags({ ...none, pidsLimit: "-1" })).toEqual({ pidsLimit: 0 });
    expect(parseLimitFlags({ ...none, pidsLimit: "0" })).toEqual({ pidsLimit: 0 });
    expect(parseLimitFlags({ ...none, pidsLimit: "200" })).toEqual({ pidsLimit: 200 });
  });

  it("a later --ulimit of the same name wins, as in docker", () => {
    expect(parseLimitFlags({ ulimit: ["nofile=10:20", "core=0", "nofile=30"] }).ulimits).toEqual([
      { name: "nofile", soft: 30, hard: 30 },
      { name: "core", soft: 0, hard: 0 },
    ]);
  });

  it("refuses a CPU this machine lacks and --cpus above its count", () => {
    const n = cpus().length;
    expect(() => parseLimitFlags({ ...none, cpusetCpus: `0-${n}` })).toThrow(
      `this machine's CPUs are 0-${n - 1}`,
    );
    expect(() => parseLimitFlags({ ...none, cpus: String(n + 0.5) })).toThrow(/from 0\.01 to/);
    expect(parseLimitFlags({ ...none, cpus: String(n) }).cpuQuota).toBe(n * 100000);
  });
});

describe("parseUlimit", () => {
  it("reads NAME=SOFT[:HARD] with unlimited as -1", () => {
    expect(parseUlimit("nofile=1024:2048")).toEqual({ name: "nofile", soft: 1024, hard: 2048 });
    expect(parseUlimit("core=unlimited")).toEqual({ name: "core", soft: -1, hard: -1 });
    expect(parseUlimit("stack=8192:-1")).toEqual({ name: "stack", soft: 8192, hard: -1 });
  });

  it("refuses an unlimited soft limit under a finite hard one", () => {
    expect(() => parseUlimit("nofile=-1:10")).toThrow("the soft limit must not exceed the hard limit");
  });
});
