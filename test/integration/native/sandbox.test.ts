import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  runSandbox,
  SandboxPool,
  sandboxBin,
  type SandboxResult,
  type SandboxSpec,
  unshareBin,
} from "../../../native/sandbox.js";
import { makeBusyboxRootfs } from "../../helpers/busybox-rootfs.js";
import { leftoverCgroups, removeCgroupParents } from "../../helpers/cgroups.js";

// This file's sandboxes make their cgroups under a parent of their own: other test files build at
// the same time, and "no cgroup left" must mean ours.
const CGROUP_PARENT = `tsbuild-test-${process.pid}`;
process.env.TSBUILD_CGROUP_PARENT = CGROUP_PARENT;

let root: string;
let base: string; // busybox rootfs with /etc
let top: string; // a second lower with one file
let counter = 0;

interface Run {
  result: SandboxResult;
  stdout: string;
  stderr: string;
  upper: string;
}

/** A fresh upper/work pair over [top, base]. */
function freshRoot(lowerdirs = [top, base]): SandboxSpec["root"] & { upperdir: string } {
  const dir = join(root, `run-${++counter}`);
  mkdirSync(join(dir, "up"), { recursive: true });
  mkdirSync(join(dir, "work"));
  return { lowerdirs, upperdir: join(dir, "up"), workdir: join(dir, "work") };
}

async function run(script: string, extra: Partial<SandboxSpec> = {}): Promise<Run> {
  const specRoot = extra.root ?? freshRoot();
  let stdout = "";
  let stderr = "";
  const result = await runSandbox(
    { args: ["/bin/sh", "-c", script], env: ["PATH=/bin"], cwd: "/", ...extra, root: specRoot },
    {
      onOutput: (stream, chunk) => {
        if (stream === "stdout") stdout += chunk.toString();
        else stderr += chunk.toString();
      },
    },
  );
  return { result, stdout, stderr, upper: specRoot.upperdir ?? "" };
}

/** Host processes whose command line contains marker (other than pgrep itself). */
function processesWith(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cmd.includes(marker)) found.push(`${pid}: ${cmd}`);
    } catch {
      // the process exited while we looked
    }
  }
  return found;
}

async function eventually(check: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "tsbuild-sandbox-test-"));
  base = join(root, "base");
  makeBusyboxRootfs(base);
  top = join(root, "top");
  mkdirSync(top);
  writeFileSync(join(top, "from-top"), "top layer\n");
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  removeCgroupParents(CGROUP_PARENT);
});

describe("runSandbox", () => {
  it("reports exit status 0 and 7 and streams output", async () => {
    const ok = await run("echo hello; echo oops >&2; cat /from-top");
    expect(ok.result.exitCode).toBe(0);
    expect(ok.result.signal).toBeNull();
    expect(ok.stdout).toBe("hello\ntop layer\n");
    expect(ok.stderr).toBe("oops\n");
    expect(ok.result.maxRssKb).toBeGreaterThan(0);
    const seven = await run("exit 7");
    expect(seven.result.exitCode).toBe(7);
  });

  it("gives the command /dev/null as stdin", async () => {
    expect((await run("cat; echo done")).stdout).toBe("done\n");
  });

  it("reports a command killed by a signal", async () => {
    const { result } = await run("kill -9 $$");
    expect(result).toMatchObject({ exitCode: 137, signal: "SIGKILL" });
  });

  it("runs the command under a tiny init as pid 1 in its own pid namespace", async () => {
    const { stdout } = await run("echo $$; cat /proc/1/cmdline | tr '\\0' ' '; echo; ps -o pid | wc -l");
    const [shellPid, init, psLines] = stdout.trim().split("\n");
    expect(shellPid).toBe("2");
    expect(init).toContain("tsbuild-sandbox");
    expect(Number(psLines)).toBeLessThanOrEqual(5); // header, init, sh, ps (and wc)
  });

  it("sets the hostname, env and cwd, creating the cwd", async () => {
    const { stdout, upper } = await run('hostname; echo "$FOO"; pwd; echo $HOME', {
      hostname: "buildbox",
      env: ["PATH=/bin", "FOO=bar baz"],
      cwd: "/work/deep",
    });
    expect(stdout).toBe("buildbox\nbar baz\n/work/deep\n/root\n");
    expect(lstatSync(join(upper, "work/deep")).isDirectory()).toBe(true);
  });

  it("runs as a numeric user, a named user and user:group", async () => {
    const ids = "id -u; id -g; id -G";
    expect((await run(ids, { user: "1000" })).stdout).toBe("1000\n1000\n1000 10\n");
    expect((await run(ids, { user: "app" })).stdout).toBe("1000\n1000\n1000 10\n");
    expect((await run(ids, { user: "app:root" })).stdout).toBe("1000\n0\n0\n");
    expect((await run(ids, { user: "4242:4343" })).stdout).toBe("4242\n4343\n4343\n");
  });

  it("fails naming an unknown user", async () => {
    await expect(run("true", { user: "nobody42" })).rejects.toThrow(/user 'nobody42'/);
    await expect(run("true", { user: "app:nogroup42" })).rejects.toThrow(/group 'nogroup42'/);
  });

  it("fails naming a missing lowerdir or command", async () => {
    const missing = join(root, "no-such-layer");
    await expect(run("true", { root: freshRoot([missing, base]) })).rejects.toThrow(missing);
    await expect(
      runSandbox({ root: freshRoot(), args: ["/bin/nonexistent"], env: [], cwd: "/" }, {}),
    ).rejects.toThrow(/exec '\/bin\/nonexistent': No such file/);
  });

  it("network none has only lo, up", async () => {
    const { stdout } = await run("tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; ip link", {
      network: "none",
    });
    const [ifaces, ...ipLink] = stdout.split(/\n(?=1:)/);
    expect(ifaces?.trim()).toBe("lo");
    expect(ipLink.join("\n")).toMatch(/^1: lo: <LOOPBACK,UP/);
  });

  it("network host reaches a server on the host's 127.0.0.1", async () => {
    const server: Server = createServer((_req, res) => res.end("from the host\n"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      const { stdout, result } = await run(`wget -q -O - http://127.0.0.1:${port}/`, { network: "host" });
      expect(result.exitCode).toBe(0);
      expect(stdout).toBe("from the host\n");
    } finally {
      server.close();
    }
  });

  it("writes land in the upperdir and the lowers stay untouched", async () => {
    const { upper, result } = await run("echo new > /new; rm /from-top; echo changed > /etc/passwd");
    expect(result.exitCode).toBe(0);
    expect(readFileSync(join(upper, "new"), "utf8")).toBe("new\n");
    expect(lstatSync(join(upper, "from-top")).isCharacterDevice()).toBe(true); // whiteout
    expect(readFileSync(join(top, "from-top"), "utf8")).toBe("top layer\n");
    expect(readFileSync(join(base, "etc/passwd"), "utf8")).toContain("app:x:1000");
    expect(readdirSync(upper).sort()).toEqual(["etc", "from-top", "new"]);
    // /etc was copied up with its own metadata, not the stub's.
    expect(lstatSync(join(upper, "etc")).mtimeMs).not.toBe(0);
    expect(lstatSync(join(upper, "etc")).mode).toBe(lstatSync(join(base, "etc")).mode);
  });

  it("leaves no mountpoint stubs in the upperdir, even over a root without /etc", async () => {
    const bare = join(root, "bare");
    mkdirSync(join(bare, "bin"), { recursive: true });
    execFileSync("cp", ["-a", join(base, "bin/busybox"), join(base, "bin/sh"), join(bare, "bin")]);
    const hostDir = join(root, "host-dir");
    mkdirSync(hostDir, { recursive: true });
    const { upper, result, stdout } = await run("ls /etc /proc/self/ >/dev/null && ls /mnt/in", {
      root: freshRoot([bare]),
      mounts: [
        { type: "bind", source: hostDir, target: "/mnt/in", options: ["rbind", "ro"] },
        { type: "tmpfs", source: "tmpfs", target: "/scratch/tmp", options: ["size=1m"] },
      ],
    });
    expect(result.exitCode).toBe(0);
    expect(stdout).toBe("");
    expect(readdirSync(upper)).toEqual([]);
  });

  it("plain upperdir root (no lowers, no workdir): stubs are removed after the run", async () => {
    const dir = join(root, "plain");
    makeBusyboxRootfs(dir);
    rmSync(join(dir, "etc"), { recursive: true });
    const before = readdirSync(dir).sort();
    const { result } = await run("echo made > /made; ls /proc/self >/dev/null; cat /etc/hosts >/dev/null", {
      root: { lowerdirs: [], upperdir: dir },
    });
    expect(result.exitCode).toBe(0);
    expect(readdirSync(dir).sort()).toEqual([...before, "made"].sort());
  });

  it("extra mounts: read-only bind and tmpfs", async () => {
    const hostDir = join(root, "bind-src");
    mkdirSync(hostDir, { recursive: true });
    writeFileSync(join(hostDir, "in"), "host file\n");
    const { stdout, result } = await run(
      "cat /src/in; touch /src/x 2>/dev/null || echo ro; echo t > /t/f && cat /t/f",
      {
        mounts: [
          { type: "bind", source: hostDir, target: "/src", options: ["rbind", "ro"] },
          { type: "tmpfs", source: "tmpfs", target: "/t", options: ["size=1m"] },
        ],
      },
    );
    expect(result.exitCode).toBe(0);
    expect(stdout).toBe("host file\nro\nt\n");
    expect(existsSync(join(hostDir, "x"))).toBe(false);
  });

  it("a read-only root refuses writes", async () => {
    const { stdout } = await run("touch /x 2>/dev/null || echo refused", {
      root: { ...freshRoot(), readonly: true },
    });
    expect(stdout).toBe("refused\n");
  });

  it("kills what the command left running in the background", async () => {
    const marker = "100079";
    const { result } = await run(`sleep ${marker} & echo started`);
    expect(result.exitCode).toBe(0);
    expect(processesWith(`sleep ${marker}`)).toEqual([]);
  });

  it("abort stops the command and leaves no process or mount behind", async () => {
    const ac = new AbortController();
    const marker = "100077";
    const started = Date.now();
    const p = runSandbox(
      { root: freshRoot(), args: ["/bin/sleep", marker], env: ["PATH=/bin"], cwd: "/" },
      { signal: ac.signal },
    );
    expect(await eventually(() => processesWith(`sleep ${marker}`).length > 0)).toBe(true);
    ac.abort();
    await expect(p).rejects.toThrow(/abort/i);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await eventually(() => processesWith(marker).length === 0)).toBe(true);
    expect(readFileSync("/proc/mounts", "utf8")).not.toContain(root);
  });

  it("abort SIGKILLs a command that ignores SIGTERM, and its whole sandbox dies", async () => {
    const ac = new AbortController();
    const marker = "100078";
    const p = runSandbox(
      {
        root: freshRoot(),
        args: ["/bin/sh", "-c", `trap '' TERM; sleep ${marker}`],
        env: ["PATH=/bin"],
        cwd: "/",
      },
      { signal: ac.signal },
    );
    expect(await eventually(() => processesWith(`sleep ${marker}`).length > 0)).toBe(true);
    ac.abort();
    await expect(p).rejects.toThrow(/abort/i);
    expect(await eventually(() => processesWith(marker).length === 0)).toBe(true);
  });

  it("reports cgroup usage and a memory limit kills a memory hog", async () => {
    const ok = await run("echo ok", { cgroup: { memoryLimit: 64 << 20, pidsLimit: 64 } });
    expect(ok.stderr).not.toContain("warning");
    expect(ok.result.memoryPeakBytes).toBeGreaterThan(0);
    expect(ok.result.cpuUsageNs).toBeGreaterThan(0);
    const hog = await run("dd if=/dev/zero of=/dev/null bs=256M count=1", {
      cgroup: { memoryLimit: 32 << 20 },
    });
    expect(hog.result).toMatchObject({ exitCode: 137, signal: "SIGKILL" });
    expect(hog.result.memoryPeakBytes).toBeGreaterThan(16 << 20);
    expect(hog.result.memoryPeakBytes).toBeLessThanOrEqual(32 << 20);
    expect(tsbuildCgroups()).toEqual([]);
  });

  it("a pids limit stops a fork storm", async () => {
    const { stderr, result } = await run(
      "i=0; while [ $i -lt 20 ]; do sleep 100080 & i=$((i+1)); done; echo end",
      {
        cgroup: { pidsLimit: 8 },
      },
    );
    expect(result.exitCode).not.toBe(0); // busybox sh gives up on a failed fork
    expect(stderr).toMatch(/can't fork/);
    expect(processesWith("sleep 100080")).toEqual([]);
  });

  it("the whole sandbox dies with the launcher's parent (PR_SET_PDEATHSIG)", async () => {
    const marker = "100081";
    const specFile = join(root, "pdeath.json");
    const spec: SandboxSpec = { root: freshRoot(), args: ["/bin/sleep", marker], env: [], cwd: "/" };
    writeFileSync(specFile, JSON.stringify(spec));
    // "; true" keeps sh from exec'ing the launcher: sh is the parent that dies.
    const parent = spawn("/bin/sh", ["-c", `${sandboxBin()} --spec ${specFile}; true`], { stdio: "ignore" });
    try {
      expect(await eventually(() => processesWith(`sleep ${marker}`).length > 0)).toBe(true);
    } finally {
      parent.kill("SIGKILL");
    }
    expect(await eventually(() => processesWith(marker).length === 0)).toBe(true);
  });
});

/**
 * Launchers this test process's pools started that wait for a spec: children of a sandbox server
 * (their sandbox inits share the launcher's cmdline, but are children of a launcher).
 */
function preparedLaunchers(): string[] {
  const ppid = (pid: string): string => {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]!;
  };
  const cmdline = (pid: string): string => readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  return processesWith(`${sandboxBin()} --spec-fd`).filter((p) => {
    try {
      const parent = ppid(p.split(":")[0]!);
      return cmdline(parent).includes("--server") && ppid(parent) === String(process.pid);
    } catch {
      return false;
    }
  });
}

function tsbuildCgroups(): string[] {
  return leftoverCgroups(CGROUP_PARENT);
}

describe("SandboxPool", () => {
  const spec = (script: string, extra: Partial<SandboxSpec> = {}): SandboxSpec => ({
    root: freshRoot(),
    args: ["/bin/sh", "-c", script],
    env: ["PATH=/bin"],
    cwd: "/",
    cgroup: {},
    ...extra,
  });

  it("runs each spec on a launcher prepared during the previous run, none after the last", async () => {
    const pool = new SandboxPool(3);
    const outputs: string[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        let out = "";
        const r = await pool.run(spec(`echo run-${i}; echo $$ > /pid`), {
          onOutput: (_, c) => (out += c.toString()),
        });
        expect(r.exitCode).toBe(0);
        expect(r.memoryPeakBytes).toBeGreaterThan(0);
        outputs.push(out.trim());
        // The next run's launcher is already waiting, its sandbox made and in its cgroups; the
        // last of the three runs the pool was told of starts none.
        const next = i < 2 ? 1 : 0;
        expect(await eventually(() => preparedLaunchers().length === next)).toBe(true);
      }
      expect(outputs).toEqual(["run-0", "run-1", "run-2"]);
      // More runs than announced still work, on a launcher started on demand.
      expect((await pool.run(spec("true"))).exitCode).toBe(0);
      expect(preparedLaunchers()).toEqual([]);
    } finally {
      await pool.close();
    }
    expect(await eventually(() => preparedLaunchers().length === 0)).toBe(true);
    expect(await eventually(() => tsbuildCgroups().length === 0)).toBe(true);
    // The server that started them is gone too.
    expect(processesWith(`${sandboxBin()} --server`)).toEqual([]);
  });

  it("keeps the output of many concurrent sandboxes apart (the server multiplexes it)", async () => {
    const pool = new SandboxPool();
    try {
      const runs = Array.from({ length: 8 }, async (_, i) => {
        let out = "";
        let err = "";
        // ~300 KB on stdout and some stderr each, interleaved with the others'.
        const r = await pool.run(
          spec(
            `i=0; while [ $i -lt 3000 ]; do echo "run-${i}-line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; i=$((i+1)); done; echo done-${i} >&2; exit ${i}`,
          ),
          {
            onOutput: (stream, c) => {
              if (stream === "stdout") out += c.toString();
              else err += c.toString();
            },
          },
        );
        return { i, r, out, err };
      });
      for (const { i, r, out, err } of await Promise.all(runs)) {
        expect(r.exitCode).toBe(i);
        const lines = out.trim().split("\n");
        expect(lines).toHaveLength(3000);
        expect(lines.every((l, n) => l.startsWith(`run-${i}-line-${n}-`))).toBe(true);
        expect(err).toBe(`done-${i}\n`);
      }
    } finally {
      await pool.close();
    }
  });

  it("keeps network modes apart and applies a prepared launcher's limits from the spec", async () => {
    const pool = new SandboxPool();
    try {
      await pool.run(spec("true"));
      const none = await runCollect(pool, spec("ls /sys/class/net", { network: "none" }));
      expect(none.out.trim()).toBe("lo");
      const host = await runCollect(pool, spec("ls /sys/class/net | grep -vc '^lo$' || true"));
      expect(Number(host.out.trim())).toBeGreaterThan(0);
      const hog = await pool.run(
        spec("dd if=/dev/zero of=/dev/null bs=256M count=1", { cgroup: { memoryLimit: 32 << 20 } }),
      );
      expect(hog).toMatchObject({ exitCode: 137, signal: "SIGKILL" });
    } finally {
      await pool.close();
    }
    expect(await eventually(() => preparedLaunchers().length === 0)).toBe(true);
  });

  it("a prepared launcher refuses a spec that does not match how it was prepared", () => {
    const r = spawnSyncLauncher(["--spec-fd", "3", "--network-none"], JSON.stringify(spec("true")));
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/network and cgroup must be as prepared/);
    const unused = spawnSyncLauncher(["--spec-fd", "3", "--cgroup"], "");
    expect(unused.status).toBe(0);
    expect(tsbuildCgroups()).toEqual([]);
  });
});

async function runCollect(
  pool: SandboxPool,
  s: SandboxSpec,
): Promise<{ result: SandboxResult; out: string }> {
  let out = "";
  const result = await pool.run(s, { onOutput: (_, c) => (out += c.toString()) });
  return { result, out };
}

/** Runs the launcher with `input` on fd 3 (then EOF). */
function spawnSyncLauncher(args: string[], input: string): { status: number | null; stderr: string } {
  const file = join(root, `spec-input-${++counter}`);
  writeFileSync(file, input);
  const r = spawnSync("/bin/sh", ["-c", `exec ${sandboxBin()} ${args.join(" ")} 3<${file}`], {
    encoding: "utf8",
  });
  return { status: r.status, stderr: r.stderr };
}

describe("tsbuild-unshare", () => {
  it("runs a command whose mounts never reach the host", () => {
    const target = join(root, "unshare-mnt");
    mkdirSync(target, { recursive: true });
    const out = execFileSync(unshareBin(), [
      "/bin/sh",
      "-c",
      `mount -t tmpfs probe ${target} && grep -c ' ${target} ' /proc/self/mounts`,
    ]).toString();
    expect(out).toBe("1\n");
    expect(readFileSync("/proc/self/mounts", "utf8")).not.toContain(target);
  });
});
