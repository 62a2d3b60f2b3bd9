// A RUN sandbox's resource limits (native/src/sandbox_cgroup.c, sandbox_rlimit.c, cgroup_fs.c): each
// limit is read back from its cgroup file on the host while the command runs, the command sees its
// ulimits and /dev/shm size, a hit limit is counted in the result, and no cgroup outlives its
// launcher (the sweep takes those of a launcher killed with SIGKILL).
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sweepCgroups } from "../../../native/index.js";
import { runSandbox, sandboxBin, type SandboxResult, type SandboxSpec } from "../../../native/sandbox.js";
import { makeBusyboxRootfs } from "../../helpers/busybox-rootfs.js";
import { eventually, sleepPid, waitForSleep } from "../../helpers/processes.js";
import {
  callerCgroup,
  cgroup2Mount,
  cgroupParentDir,
  leftoverCgroups,
  processCgroup2Dir,
  processCgroupDir,
  readCgroupFile,
  removeCgroupParents,
} from "../../helpers/cgroups.js";

// Cgroups of this file's sandboxes only: other tests make theirs at the same time.
const CGROUP_PARENT = `tsbuild-test-limits-${process.pid}`;
process.env.TSBUILD_CGROUP_PARENT = CGROUP_PARENT;

let root: string;
let base: string;
let counter = 0;
let marker = 100200;

function freshRoot(): SandboxSpec["root"] {
  const dir = join(root, `run-${++counter}`);
  mkdirSync(join(dir, "up"), { recursive: true });
  mkdirSync(join(dir, "work"));
  return { lowerdirs: [base], upperdir: join(dir, "up"), workdir: join(dir, "work") };
}

function spec(script: string, extra: Partial<SandboxSpec> = {}): SandboxSpec {
  return { root: freshRoot(), args: ["/bin/sh", "-c", script], env: ["PATH=/bin"], cwd: "/", ...extra };
}

interface Ran {
  result: SandboxResult;
  stdout: string;
  stderr: string;
}

async function run(s: SandboxSpec): Promise<Ran> {
  let stdout = "";
  let stderr = "";
  const result = await runSandbox(s, {
    onOutput: (stream, c) => (stream === "stdout" ? (stdout += c.toString()) : (stderr += c.toString())),
  });
  return { result, stdout, stderr };
}

/**
 * Runs `sleep N; echo after` under the spec's limits; while the sleep runs, `inspect` reads the host
 * side (given the sleep's host pid); then the sleep is killed and the command goes on to exit 0.
 */
async function whileRunning<T>(
  extra: Partial<SandboxSpec>,
  inspect: (pid: string) => T,
): Promise<Ran & { seen: T }> {
  const n = ++marker;
  let settled = false;
  const running = run(spec(`sleep ${n}; echo after`, extra)).finally(() => (settled = true));
  const pid = await waitForSleep(n, () => settled, 20_000);
  if (!pid) {
    const r = await running;
    throw new Error(`the sandbox never slept: ${JSON.stringify(r)}`);
  }
  let seen: T;
  try {
    seen = inspect(pid);
  } finally {
    process.kill(Number(pid), "SIGKILL");
  }
  return { ...(await running), seen };
}

/** Whether this host has v1 hierarchies of these controllers (this machine: all of them). */
function v1Has(...controllers: string[]): boolean {
  return controllers.every((c) => {
    try {
      callerCgroup(c);
      return existsSync(`/sys/fs/cgroup/${c}/cgroup.procs`);
    } catch {
      return false;
    }
  });
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "tsbuild-limits-test-"));
  base = join(root, "base");
  makeBusyboxRootfs(base);
});

afterEach(() => {
  // Every launcher has exited when its run resolved: its cgroups went with it.
  expect(leftoverCgroups(CGROUP_PARENT)).toEqual([]);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  removeCgroupParents(CGROUP_PARENT);
});

describe("cgroup v1 limits", () => {
  const v1 = v1Has("memory", "pids", "cpuacct", "cpu", "cpuset");

  it.runIf(v1)("writes each limit to its cgroup file, under the caller's own cgroup", async () => {
    const cpuset = cpus().length > 1 ? "1" : "0";
    const { result, stdout, seen } = await whileRunning(
      {
        cgroup: {
          memoryLimit: 96 << 20,
          memorySwapLimit: 192 << 20,
          cpuShares: 512,
          cpuPeriod: 50_000,
          cpuQuota: 25_000,
          cpusetCpus: cpuset,
          pidsLimit: 77,
        },
      },
      (pid) => {
        const dir = (c: string): string => processCgroupDir(pid, c);
        return {
          dirs: ["memory", "pids", "cpuacct", "cpu", "cpuset"].map((c) => [c, dir(c)]),
          memory: readCgroupFile(dir("memory"), "memory.limit_in_bytes"),
          memsw: readCgroupFile(dir("memory"), "memory.memsw.limit_in_bytes"),
          memswKnown: existsSync(join(cgroupParentDir(CGROUP_PARENT), "memory.memsw.limit_in_bytes")),
          shares: readCgroupFile(dir("cpu"), "cpu.shares"),
          period: readCgroupFile(dir("cpu"), "cpu.cfs_period_us"),
          quota: readCgroupFile(dir("cpu"), "cpu.cfs_quota_us"),
          cpuset: readCgroupFile(dir("cpuset"), "cpuset.cpus"),
          pids: readCgroupFile(dir("pids"), "pids.max"),
        };
      },
    );
    expect(result.exitCode).toBe(0);
    expect(stdout).toBe("after\n");
    // <mount>/<the test's own cgroup>/<parent>/<pid>-<start>-<hex>, in every controller.
    for (const [c, d] of seen.dirs)
      expect(d).toMatch(new RegExp(`^${cgroupParentDir(CGROUP_PARENT, c!)}/\\d+-\\d+-[0-9a-f]{6}$`));
    expect(seen.memory).toBe(String(96 << 20));
    // memsw exists only with swap accounting on (swapaccount=1; v1's default on this kernel).
    if (seen.memswKnown) expect(seen.memsw).toBe(String(192 << 20));
    expect(seen.shares).toBe("512");
    expect(seen.period).toBe("50000");
    expect(seen.quota).toBe("25000");
    expect(seen.cpuset).toBe(cpuset);
    expect(seen.pids).toBe("77");
  });

  it.runIf(v1)("a run without limits gets only the metrics' controllers, and no memory limit", async () => {
    const { seen } = await whileRunning({ cgroup: {} }, (pid) => ({
      memory: readCgroupFile(processCgroupDir(pid, "memory"), "memory.limit_in_bytes"),
      pids: readCgroupFile(processCgroupDir(pid, "pids"), "pids.max"),
      // cpu is made only for a build that sets a CPU limit: the RUN stays in the caller's cpu cgroup.
      cpu: processCgroupDir(pid, "cpu"),
    }));
    expect(Number(seen.memory)).toBeGreaterThan(2 ** 62);
    expect(seen.pids).toBe("max");
    expect(seen.cpu).toBe(`/sys/fs/cgroup/cpu${callerCgroup("cpu")}`);
  });

  it.runIf(v1Has("blkio"))(
    "--blkio-weight lands in blkio.weight, or says why the kernel has none",
    async () => {
      const parent = `/sys/fs/cgroup/blkio${callerCgroup("blkio")}`;
      const file = ["blkio.weight", "blkio.bfq.weight"].find((f) => existsSync(join(parent, f)));
      if (file) {
        const { seen } = await whileRunning({ cgroup: { blkioWeight: 300 } }, (pid) =>
          readCgroupFile(processCgroupDir(pid, "blkio"), file),
        );
        expect(seen).toMatch(/(^|\s)300$/m);
        return;
      }
      // This kernel's blkio has no weight file (no BFQ scheduler on any disk): asked for, the limit
      // fails the run naming its flag; best effort (as a build makes it), the run warns and goes on.
      await expect(run(spec("true", { cgroup: { blkioWeight: 300 } }))).rejects.toThrow(
        /cannot apply the block I\/O weight \(--blkio-weight\): this kernel's blkio controller has no blkio\.weight or blkio\.bfq\.weight/,
      );
      const soft = await run(spec("echo ran", { cgroup: { blkioWeight: 300, bestEffort: ["blkioWeight"] } }));
      expect(soft.result.exitCode).toBe(0);
      expect(soft.stdout).toBe("ran\n");
      expect(soft.stderr).toMatch(/warning: cannot apply the block I\/O weight .*running without it/);
    },
  );

  it.runIf(v1)("a limit the kernel refuses fails the run with one line naming its flag", async () => {
    await expect(run(spec("true", { cgroup: { cpusetCpus: "4000" } }))).rejects.toThrow(
      /^tsbuild-sandbox: cannot apply the CPU set \(--cpuset-cpus\): 4000 in \/sys\/fs\/cgroup\/cpuset\/.*: (Invalid argument|Numerical result out of range)/,
    );
  });
});

describe("what a run used and which limit it hit", () => {
  it("counts the OOM kills under a memory limit", async () => {
    const { result } = await run(
      spec("dd if=/dev/zero of=/dev/null bs=256M count=1; echo $?", { cgroup: { memoryLimit: 32 << 20 } }),
    );
    expect(result.oomKills).toBeGreaterThanOrEqual(1);
    expect(result.memoryPeakBytes).toBeLessThanOrEqual(32 << 20);
    const fits = await run(
      spec("dd if=/dev/zero of=/dev/null bs=8M count=1", { cgroup: { memoryLimit: 32 << 20 } }),
    );
    expect(fits.result).toMatchObject({ exitCode: 0, oomKills: 0 });
  });

  it("counts the forks a pids limit refused, and the peak never passes it", async () => {
    const { result, stderr } = await run(
      spec(
        "i=0; while [ $i -lt 30 ]; do sleep 100199 & i=$((i+1)); done; kill $(jobs -p) 2>/dev/null; true",
        {
          cgroup: { pidsLimit: 10 },
        },
      ),
    );
    expect(stderr).toMatch(/can't fork/);
    expect(result.pidsDenied).toBeGreaterThanOrEqual(1);
    expect(result.pidsPeak).toBeLessThanOrEqual(10);
    expect(result.pidsPeak).toBeGreaterThanOrEqual(8);
  });

  it("reports the pids peak and the bytes written for the disk", async () => {
    const { result } = await run(
      spec("sleep 0.2 & sleep 0.2 & dd if=/dev/zero of=/big bs=1M count=8 2>/dev/null; wait", { cgroup: {} }),
    );
    expect(result.exitCode).toBe(0);
    expect(result.pidsPeak).toBeGreaterThanOrEqual(4); // init, sh, two sleeps (and dd)
    // Buffered writes are counted when the pages are dirtied (task I/O accounting), fsync or not.
    expect(result.blockWriteBytes).toBeGreaterThanOrEqual(8 << 20);
    expect(result.blockReadBytes).toBeGreaterThanOrEqual(0);
    expect(result).toMatchObject({ oomKills: 0, pidsDenied: 0 });
  });
});

describe("ulimits and /dev/shm", () => {
  it("--ulimit is what the command and its children see", async () => {
    const { stdout, result } = await run(
      spec("ulimit -n; ulimit -Hn; ulimit -c; sh -c 'ulimit -n'", {
        ulimits: [
          { name: "nofile", soft: 1000, hard: 2000 },
          { name: "core", soft: 0, hard: 0 },
        ],
      }),
    );
    expect(result.exitCode).toBe(0);
    expect(stdout).toBe("1000\n2000\n0\n1000\n");
  });

  it("refuses an unknown ulimit in the spec, naming it", async () => {
    await expect(run(spec("true", { ulimits: [{ name: "bogus", soft: 1, hard: 1 }] }))).rejects.toThrow(
      /ulimits: unknown limit "bogus"/,
    );
  });

  it("--shm-size sizes /dev/shm (default 64 MiB), and a write past it fails", async () => {
    const sized = await run(
      spec(
        "grep ' /dev/shm ' /proc/mounts; dd if=/dev/zero of=/dev/shm/f bs=1M count=12 2>/dev/null || echo full; wc -c < /dev/shm/f",
        {
          shmSize: 10 << 20,
        },
      ),
    );
    expect(sized.stdout).toMatch(/ \/dev\/shm tmpfs .*size=10240k/);
    expect(sized.stdout.split("\n").slice(1)).toEqual(["full", String(10 << 20), ""]);
    const plain = await run(spec("grep ' /dev/shm ' /proc/mounts"));
    expect(plain.stdout).toMatch(/size=65536k/);
  });
});

describe("cgroup v2", () => {
  // On this hybrid host the cgroup2 mount ("unified") holds no controller that v1 has bound; the
  // launcher is pointed at it with TSBUILD_CGROUP2_MOUNT, as tsbuild on a v2 host would use /sys/fs/cgroup.
  const mount = cgroup2Mount();
  const unifiedHost = mount === "/sys/fs/cgroup";

  it.runIf(mount !== undefined)(
    "makes one cgroup under the caller's, with each limit its controller allows",
    async () => {
      const saved = process.env.TSBUILD_CGROUP2_MOUNT;
      if (!unifiedHost) process.env.TSBUILD_CGROUP2_MOUNT = mount;
      try {
        const callerDir = processCgroup2Dir(process.pid, mount!);
        const controllers = (readCgroupFile(callerDir, "cgroup.controllers") ?? "").split(" ");
        const { result, seen } = await whileRunning({ cgroup: {} }, (pid) => processCgroup2Dir(pid, mount!));
        expect(result.exitCode).toBe(0);
        expect(seen).toMatch(new RegExp(`^${callerDir}/${CGROUP_PARENT}/\\d+-\\d+-[0-9a-f]{6}$`));
        expect(result.cpuUsageNs).toBeGreaterThan(0); // cpu.stat: every v2 cgroup has it
        expect(existsSync(seen)).toBe(false);
        for (const [controller, limit, file, value] of [
          ["memory", { memoryLimit: 96 << 20 }, "memory.max", String(96 << 20)],
          ["pids", { pidsLimit: 77 }, "pids.max", "77"],
          ["cpu", { cpuQuota: 25_000, cpuPeriod: 50_000 }, "cpu.max", "25000 50000"],
        ] as const) {
          const refusal = (why: string) =>
            new RegExp(
              `cannot apply .*: the ${controller} controller is not available to this process's cgroup \\(${why}`,
            );
          if (!controllers.includes(controller)) {
            // Not offered to this cgroup (here: bound to v1): refused, naming the controller.
            await expect(run(spec("true", { cgroup: limit }))).rejects.toThrow(
              refusal("none is offered to it: not delegated, or bound to a cgroup v1 hierarchy"),
            );
            continue;
          }
          // Offered: handed down unless this cgroup has processes of its own (the test's) and is
          // not the root. Either the value is in its file, or the refusal says that.
          const r = await whileRunning({ cgroup: limit }, (pid) =>
            readCgroupFile(processCgroup2Dir(pid, mount!), file),
          ).catch((e: Error) => e);
          if (r instanceof Error)
            expect(r.message).toMatch(refusal("cgroup v2 hands controllers down only from"));
          else expect(r.seen).toBe(value);
        }
      } finally {
        if (saved === undefined) delete process.env.TSBUILD_CGROUP2_MOUNT;
        else process.env.TSBUILD_CGROUP2_MOUNT = saved;
      }
      const v2Parent = join(processCgroup2Dir(process.pid, mount!), CGROUP_PARENT);
      expect(existsSync(v2Parent) ? readdirSync(v2Parent).filter((d) => /^\d+-/.test(d)) : []).toEqual([]);
    },
  );
});

describe("the sweep (issue 19 #9)", () => {
  const parent = (): string => cgroupParentDir(CGROUP_PARENT, "memory");
  const startTicks = (pid: number): string => {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!;
  };

  it("removes the cgroups of a launcher killed with SIGKILL, not its own", async () => {
    const n = ++marker;
    const specFile = join(root, "killed.json");
    writeFileSync(specFile, JSON.stringify(spec(`sleep ${n}`, { cgroup: { memoryLimit: 64 << 20 } })));
    const launcher = spawn(sandboxBin(), ["--spec", specFile], { stdio: "ignore" });
    expect(await waitForSleep(n, () => false, 20_000)).toBeDefined();
    const exited = new Promise((r) => launcher.on("exit", r));
    launcher.kill("SIGKILL"); // no cleanup: its sandbox dies (PDEATHSIG), its cgroups stay
    await exited;
    expect(await eventually(() => sleepPid(n) === undefined)).toBe(true);
    const left = leftoverCgroups(CGROUP_PARENT);
    expect(left.length).toBeGreaterThanOrEqual(3); // memory, pids, cpuacct
    expect(left.every((l) => l.split("/")[1]!.startsWith(`${launcher.pid}-`))).toBe(true);
    // The sandbox's init may still be exiting (a busy machine): a cgroup with a task cannot go yet,
    // and a sweep then leaves it for the next one.
    const empty = (l: string) => {
      const [controller, lease] = l.split("/");
      return readCgroupFile(join(cgroupParentDir(CGROUP_PARENT, controller), lease!), "cgroup.procs") === "";
    };
    expect(await eventually(() => left.every(empty), 10_000)).toBe(true);

    // A live owner's lease and a dir that is no lease stay; a reused pid (wrong start time) is gone.
    mkdirSync(parent(), { recursive: true });
    const live = join(parent(), `${process.pid}-${startTicks(process.pid)}-abcdef`);
    const reused = join(parent(), `${process.pid}-1-abcdef`);
    const other = join(parent(), "not-a-lease");
    for (const d of [live, reused, other]) mkdirSync(d);
    try {
      expect(sweepCgroups()).toBeGreaterThanOrEqual(left.length + 1);
      expect(leftoverCgroups(CGROUP_PARENT)).toEqual([`memory/${live.split("/").pop()}`]);
      expect(existsSync(other)).toBe(true);
      expect(existsSync(reused)).toBe(false);
    } finally {
      for (const d of [live, reused, other]) if (existsSync(d)) rmdirSync(d);
    }
  });
});
