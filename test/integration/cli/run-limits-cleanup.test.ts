// No RUN cgroup outlives its build (issue 19 #9): after a build that passed, one that failed, one
// cancelled with SIGTERM or SIGINT, and one whose every process (tsbuild, the sandbox server, the
// launchers) was killed with SIGKILL, followed by the next build or a prune. The checks count only
// the cgroups under this test's own parent: other tests build at the same time.
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { eventually, sleepPid, waitForSleep } from "../../helpers/processes.js";
import { tsbuild } from "../../helpers/tsbuild.js";
import { LimitsBench } from "./limits-helpers.js";

const bench = new LimitsBench("limits-cleanup", 100500);
afterAll(() => bench.cleanup());

/** Processes of a process group (all of a detached build: tsbuild, its server, launchers, sandboxes). */
function groupMembers(pgid: number): string[] {
  return readdirSync("/proc").filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) === pgid;
    } catch {
      return false;
    }
  });
}

/** Starts a build whose last RUN sleeps, with limits that make every kind of cgroup, and waits for the sleep. */
async function sleepingBuild(): Promise<{
  child: ReturnType<LimitsBench["spawnBuild"]>["child"];
  n: number;
  done: Promise<unknown>;
}> {
  const n = bench.nextMarker();
  bench.dockerfile(`RUN sleep ${n}`);
  const { child, done } = bench.spawnBuild([
    "--no-cache",
    "--memory",
    "128m",
    "--cpus",
    "1",
    "--cpuset-cpus",
    "0",
  ]);
  let finished = false;
  void done.then(() => (finished = true));
  const pid = await waitForSleep(n, () => finished);
  if (!pid) throw new Error(`the RUN never slept: ${JSON.stringify(await done)}`);
  // memory, pids, cpuacct, cpu, cpuset: the RUN's cgroups exist while it runs.
  expect(bench.leftoverCgroups().length).toBeGreaterThanOrEqual(5);
  return { child, n, done };
}

describe("RUN cgroups end with their build", () => {
  it("a build that passed and one that failed (exit code, OOM) leave none", () => {
    bench.dockerfile("RUN echo fine");
    expect(bench.build(["--no-cache", "--memory", "64m", "--cpus", "1"]).code).toBe(0);
    expect(bench.leftoverCgroups()).toEqual([]);
    bench.dockerfile("RUN exit 3");
    expect(bench.build(["--cpuset-cpus", "0"]).code).toBe(1);
    expect(bench.leftoverCgroups()).toEqual([]);
    bench.dockerfile("RUN dd if=/dev/zero of=/dev/null bs=256M count=1");
    expect(bench.build(["--memory", "64m"]).code).toBe(1);
    expect(bench.leftoverCgroups()).toEqual([]);
  });

  it.each(["SIGTERM", "SIGINT"] as const)("a build cancelled with %s leaves none", async (signal) => {
    const { child, n, done } = await sleepingBuild();
    child.kill(signal);
    const r = (await done) as { code: number; stderr: string };
    expect(r.code).not.toBe(0);
    expect(sleepPid(n)).toBeUndefined();
    // The build waited for its launchers, which removed their cgroups before exiting.
    expect(bench.leftoverCgroups()).toEqual([]);
  });

  it("a build killed with SIGKILL leaves none: its launchers clean up after it", async () => {
    const { child, n, done } = await sleepingBuild();
    child.kill("SIGKILL");
    await done;
    expect(await eventually(() => sleepPid(n) === undefined)).toBe(true);
    expect(await eventually(() => bench.leftoverCgroups().length === 0)).toBe(true);
  });

  it.each(["prune", "build"] as const)(
    "all of a build killed with SIGKILL leaves them; the next %s removes them",
    async (next) => {
      const { child, n, done } = await sleepingBuild();
      // tsbuild, its sandbox server, the launchers and the sandboxes at once: nobody cleans up.
      process.kill(-child.pid!, "SIGKILL");
      await done;
      expect(await eventually(() => groupMembers(child.pid!).length === 0 && sleepPid(n) === undefined)).toBe(
        true,
      );
      const left = bench.leftoverCgroups();
      expect(left.length).toBeGreaterThanOrEqual(5);
      if (next === "prune") {
        const r = tsbuild(["prune"], { root: bench.store.path, env: bench.env });
        expect(r.code, r.stderr).toBe(0);
      } else {
        bench.dockerfile("COPY Dockerfile /");
        const r = bench.build([]);
        expect(r.code, r.stderr).toBe(0);
      }
      expect(bench.leftoverCgroups()).toEqual([]);
    },
  );
});
