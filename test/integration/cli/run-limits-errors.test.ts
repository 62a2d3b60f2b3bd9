// What a user sees when a limit is hit or a limit flag is wrong: a RUN over --memory fails with one
// line naming the OOM kill and the limit (exit 1); a fork bomb stops at the pids limit, named, and
// the host goes on; a bad value is a usage error naming its flag (exit 2) before any step runs.
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readMetrics } from "../cache/helpers.js";
import { errorLines, LimitsBench, STACK_FRAME } from "./limits-helpers.js";

const bench = new LimitsBench("limits-errors", 100400);
afterAll(() => bench.cleanup());

describe("a RUN that hits a limit", () => {
  it("over --memory: one line naming the line, the OOM kill and the limit; exit 1", () => {
    // dd's one 256 MiB buffer is touched in full; the shell goes on, but the step still fails.
    bench.dockerfile("RUN dd if=/dev/zero of=/dev/null bs=256M count=1; echo survived");
    const metrics = join(bench.store.path, "oom.json");
    const r = bench.build(["--memory", "64m", "--metrics-file", metrics]);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toEqual([
      "error: Dockerfile:4: RUN dd if=/dev/zero of=/dev/null bs=256M count=1; echo survived: killed: out of memory (limit 64MiB)",
    ]);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    const doc = readMetrics(metrics);
    expect(doc.ok).toBe(false);
    // The same RUN fits without the limit: the failure was the limit's.
    const free = bench.build([]);
    expect(free.code, free.stderr).toBe(0);
    expect(free.stderr).toMatch(/^#\d+ survived$/m);
  });

  it("a fork bomb stops at --pids-limit, named, and the host can still fork", () => {
    bench.dockerfile("RUN bomb() { bomb | bomb & }; bomb; sleep 1; echo bombed");
    const metrics = join(bench.store.path, "bomb.json");
    const r = bench.build(["--pids-limit", "64", "--metrics-file", metrics]);
    expect(r.code).toBe(1);
    const lines = errorLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^error: Dockerfile:4: RUN bomb\(\) \{ bomb \| bomb & \}; bomb; sleep 1; echo bombed: stopped: process limit reached \(--pids-limit 64; \d+ forks? refused\)$/,
    );
    expect(r.stderr).not.toMatch(STACK_FRAME);
    // Its cgroup (which holds no process once removed) is gone, and forks on the host still work.
    expect(bench.leftoverCgroups()).toEqual([]);
    expect(spawnSync("/bin/true").status).toBe(0);
  });

  it("the default 4096 guard names itself when hit", () => {
    // Subshells blocked on a FIFO: forks without an exec, cheap; the 4095th or so is refused.
    bench.dockerfile(
      "RUN mkfifo /f; i=0; while [ $i -lt 5000 ]; do (read x </f) & i=$((i+1)); done 2>/dev/null; true",
    );
    const r = bench.build([]);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)[0]).toMatch(
      /: stopped: process limit reached \(--pids-limit 4096; \d+ forks? refused\)$/,
    );
    expect(bench.leftoverCgroups()).toEqual([]);
  });
});

describe("a bad limit value", () => {
  const max = cpus().length;
  const cases: [args: string[], error: string][] = [
    [["--memory", "12q"], "error: --memory 12q: expected a size such as 512MB or 10GB"],
    [["--memory", "1m"], "error: --memory 1m: the minimum is 6m"],
    [["--memory-swap", "1g"], "error: --memory-swap 1g: needs --memory as well"],
    [
      ["--memory", "64m", "--memory-swap", "32m"],
      "error: --memory-swap 32m: must be at least --memory (64m), or -1 for unlimited swap",
    ],
    [["--cpus", "-1"], `error: --cpus -1: expected a number of CPUs from 0.01 to ${max}`],
    [["--cpus", "lots"], `error: --cpus lots: expected a number of CPUs from 0.01 to ${max}`],
    [["--cpus", String(max + 1)], `error: --cpus ${max + 1}: expected a number of CPUs from 0.01 to ${max}`],
    [
      ["--cpus", "1", "--cpu-quota", "50000"],
      "error: --cpus 1: conflicts with --cpu-period and --cpu-quota (use one or the other)",
    ],
    [["--cpu-quota", "10"], "error: --cpu-quota 10: expected a whole number at least 1000"],
    [["--cpu-shares", "1"], "error: --cpu-shares 1: expected a whole number from 2 to 262144"],
    [["--cpuset-cpus", "99"], `error: --cpuset-cpus 99: this machine's CPUs are 0-${max - 1}`],
    [["--cpuset-cpus", "1-0"], "error: --cpuset-cpus 1-0: range 1-0 is backwards"],
    [["--cpuset-cpus", "a"], "error: --cpuset-cpus a: expected a CPU list such as 0-1 or 0,2"],
    [["--pids-limit", "x"], "error: --pids-limit x: expected a whole number at least -1"],
    [["--blkio-weight", "5"], "error: --blkio-weight 5: expected a whole number from 10 to 1000"],
    [["--shm-size", "0"], "error: --shm-size 0: must be more than 0"],
    [
      ["--ulimit", "bogus=1"],
      "error: --ulimit bogus=1: unknown limit bogus (one of as, core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)",
    ],
    [["--ulimit", "nofile"], "error: --ulimit nofile: expected NAME=SOFT[:HARD], e.g. nofile=1024:2048"],
    [["--ulimit", "nofile=5:3"], "error: --ulimit nofile=5:3: the soft limit must not exceed the hard limit"],
    [["--ulimit", "nofile=x"], "error: --ulimit nofile=x: x is not a whole number"],
  ];

  it.each(cases)("%j exits 2 naming the flag, before any step", (args, error) => {
    bench.dockerfile("RUN echo never");
    const r = bench.build(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(error);
    expect(r.stderr).not.toMatch(/^#\d+ /m); // no step started
  });
});
