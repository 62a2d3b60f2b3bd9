// `tsbuild build --memory … --ulimit … --shm-size …`: every flag reaches the RUN. The cgroup files are
// read from the host while the RUN sleeps; ulimits and /dev/shm are what the RUN itself prints; the
// metrics file shows the CPU cap, the pids peak and the block I/O; the limits are no part of the key.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { outcomesByInstruction, readMetrics } from "../cache/helpers.js";
import { callerCgroup, cgroupParentDir, processCgroupDir, readCgroupFile } from "../../helpers/cgroups.js";
import { LimitsBench } from "./limits-helpers.js";

const bench = new LimitsBench("run-limits", 100300);
afterAll(() => bench.cleanup());

/** Whether this host has a v1 hierarchy of each controller (this machine has; a v2 host has none). */
const v1 = ["memory", "pids", "cpuacct", "cpu", "cpuset", "blkio"].every((c) => {
  try {
    callerCgroup(c);
    return true;
  } catch {
    return false;
  }
});

/** The RUN's output lines ("#4 text" → "text") of the last RUN step. */
function runOutput(stderr: string): string[] {
  const last = [...stderr.matchAll(/^(#\d+) \[base 3\/3\] RUN/gm)].pop();
  if (!last) return [];
  return stderr
    .split("\n")
    .filter((l) => l.startsWith(`${last[1]} `) && !/^#\d+ (\[|DONE|CACHED|ERROR)/.test(l))
    .map((l) => l.slice(last[1]!.length + 1));
}

describe.runIf(v1)("the limit flags on cgroup v1", () => {
  it("writes each flag's cgroup file, in cgroups under the caller's own", async () => {
    const r = await bench.whileRunning(
      [
        ...["--memory", "96m", "--memory-swap", "192m", "--cpu-shares", "512"],
        ...["--cpu-period", "50000", "--cpu-quota", "25000", "--cpuset-cpus", "0"],
        ...["--pids-limit", "77", "--blkio-weight", "300"],
      ],
      (pid) => {
        const read = (c: string, f: string) => readCgroupFile(processCgroupDir(pid, c), f);
        const blkio = processCgroupDir(pid, "blkio");
        return {
          dirs: ["memory", "pids", "cpuacct", "cpu", "cpuset", "blkio"].map((c) => [
            c,
            processCgroupDir(pid, c),
          ]),
          memory: read("memory", "memory.limit_in_bytes"),
          memsw: read("memory", "memory.memsw.limit_in_bytes"),
          shares: read("cpu", "cpu.shares"),
          period: read("cpu", "cpu.cfs_period_us"),
          quota: read("cpu", "cpu.cfs_quota_us"),
          cpuset: read("cpuset", "cpuset.cpus"),
          pids: read("pids", "pids.max"),
          blkioFile: ["blkio.weight", "blkio.bfq.weight"].find((f) => existsSync(join(blkio, f))),
          blkio: read("blkio", "blkio.weight") ?? read("blkio", "blkio.bfq.weight"),
        };
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const { seen } = r;
    for (const [c, d] of seen.dirs)
      expect(d).toMatch(new RegExp(`^${cgroupParentDir(bench.cgroupParent, c!)}/\\d+-\\d+-[0-9a-f]{6}$`));
    expect(seen.memory).toBe(String(96 << 20));
    if (seen.memsw !== undefined) expect(seen.memsw).toBe(String(192 << 20));
    expect(seen).toMatchObject({ shares: "512", period: "50000", quota: "25000", cpuset: "0", pids: "77" });
    if (seen.blkioFile) {
      expect(seen.blkio).toMatch(/(^|\s)300$/m);
    } else {
      // Docker too only warns: this kernel's blkio has no weight (no disk uses the BFQ scheduler).
      expect(r.stderr).toMatch(
        /warning: cannot apply the block I\/O weight \(--blkio-weight\): this kernel's blkio controller has no blkio\.weight or blkio\.bfq\.weight; running without it/,
      );
    }
  });

  it("--cpus N is a quota of N × 100000 µs per 100000 µs", async () => {
    const { code, stderr, seen } = await bench.whileRunning(["--cpus", "1.5"], (pid) => ({
      period: readCgroupFile(processCgroupDir(pid, "cpu"), "cpu.cfs_period_us"),
      quota: readCgroupFile(processCgroupDir(pid, "cpu"), "cpu.cfs_quota_us"),
    }));
    expect(code, stderr).toBe(0);
    expect(seen).toEqual({ period: "100000", quota: "150000" });
  });

  it("every RUN gets pids.max 4096 by default; --pids-limit -1 lifts it", async () => {
    const pids = (pid: string) => readCgroupFile(processCgroupDir(pid, "pids"), "pids.max");
    const byDefault = await bench.whileRunning([], pids);
    expect(byDefault.code, byDefault.stderr).toBe(0);
    expect(byDefault.seen).toBe("4096");
    const lifted = await bench.whileRunning(["--pids-limit", "-1"], pids);
    expect(lifted.code, lifted.stderr).toBe(0);
    expect(lifted.seen).toBe("max");
  });
});

describe("what the RUN sees", () => {
  it("--ulimit nofile=… is `ulimit -n`; --shm-size is /dev/shm's size in df", () => {
    bench.dockerfile("RUN ulimit -n; ulimit -Hn; ulimit -c; df -k /dev/shm | tail -1");
    const r = bench.build([
      "--no-cache",
      "--ulimit",
      "nofile=1000:2000",
      "--ulimit",
      "core=0",
      "--shm-size",
      "10m",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [soft, hard, core, df] = runOutput(r.stderr);
    expect([soft, hard, core]).toEqual(["1000", "2000", "0"]);
    expect(df!.split(/\s+/).slice(0, 2)).toEqual(["shm", "10240"]);
    // Without the flags: the launcher's nofile, and Docker's 64 MiB /dev/shm.
    const plain = bench.build(["--no-cache"]);
    expect(plain.code, plain.stderr).toBe(0);
    const out = runOutput(plain.stderr);
    expect(out[0]).not.toBe("1000");
    expect(out[3]!.split(/\s+/).slice(0, 2)).toEqual(["shm", "65536"]);
  });
});

describe("the metrics file", () => {
  it("--cpus 0.5 halves a busy loop's CPU time", () => {
    // A loop of 2 s wall time: alone it could take up to 2 s of CPU; capped, about 1 s.
    bench.dockerfile("RUN timeout 2 sh -c 'while :; do :; done'; true");
    const cpuMs = (args: string[]): { cpuMs: number; durationMs: number } => {
      const metrics = join(bench.store.path, "cpu.json");
      const r = bench.build(["--no-cache", "--metrics-file", metrics, ...args]);
      expect(r.code, r.stderr).toBe(0);
      const step = readMetrics(metrics).steps.find((s) => s.instruction.startsWith("RUN timeout"))!;
      expect(step.usageSource).toBe("cgroup");
      return { cpuMs: step.cpuMs!, durationMs: step.durationMs };
    };
    const capped = cpuMs(["--cpus", "0.5"]);
    const free = cpuMs([]);
    // The quota: 50 ms per 100 ms period, so at most about half the loop's 2 s (plus a period).
    expect(capped.cpuMs).toBeLessThanOrEqual(1150);
    expect(capped.cpuMs).toBeGreaterThan(600);
    expect(free.cpuMs).toBeGreaterThan(capped.cpuMs);
  });

  it("lists each RUN's pids peak and block I/O bytes", () => {
    bench.dockerfile(
      "RUN sleep 0.3 & sleep 0.3 & dd if=/dev/zero of=/big bs=1M count=8 2>/dev/null; wait; rm /big",
    );
    const metrics = join(bench.store.path, "io.json");
    const r = bench.build(["--no-cache", "--metrics-file", metrics]);
    expect(r.code, r.stderr).toBe(0);
    const runs = readMetrics(metrics).steps.filter((s) => s.instruction.startsWith("RUN"));
    expect(runs).toHaveLength(2);
    for (const s of runs) {
      expect(s.pidsPeak).toBeGreaterThanOrEqual(1);
      expect(s.blockReadBytes).toBeGreaterThanOrEqual(0);
      expect(s.blockWriteBytes).toBeGreaterThanOrEqual(0);
    }
    const io = runs[1]!;
    expect(io.pidsPeak).toBeGreaterThanOrEqual(4); // init, sh, two sleeps, dd
    expect(io.pidsPeak).toBeLessThanOrEqual(6);
    expect(io.blockWriteBytes).toBeGreaterThanOrEqual(8 << 20);
  });
});

describe("the cache key", () => {
  it("holds no limit: a rebuild with other limits hits every step (as docker's builder; BuildKit has none)", () => {
    bench.dockerfile(`RUN echo keyed-${bench.nextMarker()} > /k`);
    const first = bench.build(["-t", "limits:1"]);
    expect(first.code, first.stderr).toBe(0);
    const again = bench.build([
      ...["-t", "limits:1", "--memory", "256m", "--cpus", "1", "--pids-limit", "100"],
      ...["--ulimit", "nofile=512", "--shm-size", "8m", "--cpu-shares", "100"],
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(Object.values(outcomesByInstruction(again.stderr))).toEqual(["CACHED", "CACHED", "CACHED"]);
    const digest = (s: string) => /image (sha256:[0-9a-f]+)/.exec(s)?.[1];
    expect(digest(again.stderr)).toBe(digest(first.stderr));
  });
});
