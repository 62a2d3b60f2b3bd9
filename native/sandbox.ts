// The Node side of the sandbox launcher (native/src/sandbox_*.c): starts tsbuild-sandbox, hands it
// the spec on fd 4, streams the command's output and reads its one-line JSON result from fd 3.
import { type ChildProcess, spawn } from "node:child_process";
import type { Writable } from "node:stream";
import {
  type LaunchMode,
  launchArgs,
  type LauncherExit,
  type LauncherLink,
  type LauncherSinks,
} from "./launcher.js";
import { sandboxBin } from "./paths.js";
import { SandboxServer } from "./sandbox-server.js";

export { sandboxBin, unshareBin } from "./paths.js";
// The launcher protocol lives in launcher.ts (sandbox-server.ts needs it too); exported from here
// as before.
export {
  type LaunchMode,
  launchArgs,
  type LauncherExit,
  type LauncherLink,
  type LauncherSinks,
} from "./launcher.js";

export interface SandboxSpec {
  root: {
    /** Host dirs, nearest first; may be empty when upperdir is given. */
    lowerdirs: string[];
    upperdir?: string;
    workdir?: string;
    readonly?: boolean;
    /** Extra overlay options, e.g. "volatile" (no syncs: faster, for throwaway uppers). */
    options?: string[];
  };
  /** type "bind" (source a host path; options "rbind"|"bind", "ro"|"rw") or a filesystem type ("tmpfs"). */
  mounts?: { type: string; source: string; target: string; options?: string[] }[];
  args: string[];
  env: string[];
  /** Absolute; created when missing, as Docker does. */
  cwd: string;
  /** "uid", "uid:gid", "name", "name:group", resolved in the container's /etc/passwd and /etc/group. */
  user?: string;
  hostname?: string;
  network?: "host" | "none";
  etcHosts?: string;
  resolvConf?: string;
  /** Present: the RUN gets cgroups (under tsbuild's own), for its limits and its usage figures. */
  cgroup?: CgroupLimits;
  /** setrlimit(2) for the command and its children; -1: unlimited. */
  ulimits?: Ulimit[];
  /** Bytes of the sandbox's /dev/shm tmpfs (default 64 MiB). */
  shmSize?: number;
}

/** Limits of the RUN's cgroups (native/src/sandbox_cgroup.c); absent fields set nothing. */
export interface CgroupLimits {
  memoryLimit?: number;
  /** Memory plus swap; -1: unlimited swap. */
  memorySwapLimit?: number;
  cpuShares?: number;
  /** µs. */
  cpuPeriod?: number;
  cpuQuota?: number;
  cpusetCpus?: string;
  pidsLimit?: number;
  blkioWeight?: number;
  /** Names of the limits above that the host may fail to apply with a warning; any other fails the RUN. */
  bestEffort?: string[];
}

export interface Ulimit {
  /** Docker's names: nofile, nproc, core, stack, … */
  name: string;
  soft: number;
  hard: number;
}

export interface SandboxResult {
  exitCode: number;
  /** "SIGKILL" etc. when the command was killed by a signal (exitCode is then 128 + its number). */
  signal: string | null;
  maxRssKb: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  /** From the memory cgroup, when the spec asked for cgroup limits and cgroups work. */
  memoryPeakBytes: number | null;
  cpuUsageNs: number | null;
  /** Most processes at once, from the pids cgroup. */
  pidsPeak: number | null;
  /** What the process tree read from disk and dirtied for it (task I/O accounting, through rusage). */
  blockReadBytes: number;
  blockWriteBytes: number;
  /** Processes the OOM killer took in the RUN's cgroup; forks its pids limit refused. */
  oomKills: number;
  pidsDenied: number;
}

export interface RunSandboxOptions {
  onOutput?: (stream: "stdout" | "stderr", chunk: Buffer) => void;
  /** Aborting sends SIGTERM to the command (through the launcher), SIGKILL 2 s later. */
  signal?: AbortSignal;
}

const LAUNCHER_ERROR_EXIT = 125;
const KILL_GRACE_MS = 2000;
const STDERR_TAIL_BYTES = 4096;

function abortError(signal: AbortSignal): Error {
  if (signal.reason instanceof Error) return signal.reason;
  const err = new Error("sandbox aborted");
  err.name = "AbortError";
  return err;
}

/** The cgroup controllers a RUN needs besides the ones every RUN cgroup has (memory, pids, cpuacct). */
function extraControllers(l: CgroupLimits | undefined): string[] {
  if (!l) return [];
  const extra: string[] = [];
  if (l.cpuShares || l.cpuPeriod || l.cpuQuota) extra.push("cpu");
  if (l.cpusetCpus) extra.push("cpuset");
  if (l.blkioWeight) extra.push("blkio");
  return extra;
}

function modeOf(spec: Pick<SandboxSpec, "network" | "cgroup">): LaunchMode {
  const cgroupControllers = extraControllers(spec.cgroup);
  return {
    networkNone: spec.network === "none",
    cgroup: spec.cgroup !== undefined,
    ...(cgroupControllers.length ? { cgroupControllers } : {}),
  };
}

function modeKey(m: LaunchMode): string {
  return `${m.networkNone ? "none" : "host"}/${m.cgroup ? "cgroup" : "-"}/${(m.cgroupControllers ?? []).join(",")}`;
}

type OutputSink = (stream: "stdout" | "stderr", chunk: Buffer) => void;

/** A launcher in a process of its own, spawned by Node. */
function spawnedLauncher(mode: LaunchMode, sinks: LauncherSinks): LauncherLink {
  const child: ChildProcess = spawn(sandboxBin(), launchArgs(mode), {
    stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
  });
  child.stdio[3]!.on("data", (c: Buffer) => sinks.result(c));
  child.stdout!.on("data", (c: Buffer) => sinks.output("stdout", c));
  child.stderr!.on("data", (c: Buffer) => sinks.output("stderr", c));
  const specPipe = child.stdio[4] as Writable;
  // A launcher that died has closed its end: EPIPE on the spec pipe is reported through its exit.
  specPipe.on("error", () => undefined);
  const exited = new Promise<LauncherExit>((resolve) => {
    child.on("error", (error) => resolve({ code: null, killedBy: null, error }));
    child.on("close", (code, killedBy) => resolve({ code, killedBy }));
  });
  return {
    send: (spec) => (spec === undefined ? specPipe.end() : specPipe.end(spec)),
    kill: (sig) => void child.kill(sig),
    exited,
  };
}

/**
 * One launcher started in `--spec-fd` mode: its namespaces and cgroups are made while it waits for a
 * spec, so it can be started before the spec exists (SandboxPool). Output that comes before `run`
 * (a launcher warning) is kept and replayed to run's onOutput.
 */
class Launcher {
  private readonly link: LauncherLink;
  private readonly result: Buffer[] = [];
  private stderrTail = Buffer.alloc(0);
  private early: [stream: "stdout" | "stderr", chunk: Buffer][] = [];
  private sink: OutputSink | undefined;

  constructor(connect: (sinks: LauncherSinks) => LauncherLink) {
    this.link = connect({
      output: (stream, chunk) => {
        if (stream === "stderr")
          this.stderrTail = Buffer.concat([this.stderrTail, chunk]).subarray(-STDERR_TAIL_BYTES);
        if (this.sink) this.sink(stream, chunk);
        else this.early.push([stream, chunk]);
      },
      result: (chunk) => this.result.push(chunk),
    });
  }

  /** Sends the spec and resolves with the command's result, as runSandbox documents. */
  async run(spec: SandboxSpec, { signal, onOutput }: RunSandboxOptions): Promise<SandboxResult> {
    if (signal?.aborted) {
      await this.discard();
      throw abortError(signal);
    }
    this.sink = onOutput ?? (() => undefined);
    for (const [stream, chunk] of this.early.splice(0)) this.sink(stream, chunk);
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      this.link.kill("SIGTERM");
      killTimer = setTimeout(() => this.link.kill("SIGKILL"), KILL_GRACE_MS);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    this.link.send(JSON.stringify(spec));
    try {
      const { code, killedBy, error } = await this.link.exited;
      if (signal?.aborted) throw abortError(signal);
      if (error) throw new Error(`tsbuild-sandbox: cannot run ${sandboxBin()}: ${error.message}`);
      return this.parseResult(spec, code, killedBy);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      clearTimeout(killTimer);
    }
  }

  private parseResult(spec: SandboxSpec, code: number | null, killedBy: string | null): SandboxResult {
    const line = Buffer.concat(this.result).toString("utf8").trim();
    let parsed: (SandboxResult & { error?: undefined }) | { error: string } | undefined;
    try {
      parsed = line ? JSON.parse(line) : undefined;
    } catch {
      parsed = undefined;
    }
    if (parsed && "error" in parsed && parsed.error !== undefined) {
      throw new Error(`tsbuild-sandbox: ${parsed.error} (running ${JSON.stringify(spec.args)})`);
    }
    if (parsed) return parsed as SandboxResult;
    const why = killedBy
      ? `killed by ${killedBy}`
      : code === LAUNCHER_ERROR_EXIT
        ? "failed"
        : `exited ${code}`;
    const tail = this.stderrTail.toString("utf8").trim();
    throw new Error(`tsbuild-sandbox ${why} without a result${tail ? `: ${tail}` : ""}`);
  }

  /** Ends an unused launcher: EOF instead of a spec makes it take its sandbox down and exit. */
  async discard(): Promise<void> {
    this.link.send(undefined);
    await this.link.exited;
  }
}

/**
 * Runs spec.args in a fresh sandbox. Resolves with the command's result (a non-zero exit is a
 * result); rejects when the launcher itself fails (bad spec, mount error, unknown user ...) or
 * when opts.signal aborts.
 */
export function runSandbox(spec: SandboxSpec, opts: RunSandboxOptions = {}): Promise<SandboxResult> {
  return new Launcher((sinks) => spawnedLauncher(modeOf(spec), sinks)).run(spec, opts);
}

/** Runs sandboxes: runSandbox, or a SandboxPool. */
export interface SandboxRunner {
  run(spec: SandboxSpec, opts?: RunSandboxOptions): Promise<SandboxResult>;
  /** A hint that a RUN may come soon (a pool starts a launcher for it). */
  prepare?(): void;
}

/**
 * Runs each sandbox on a launcher started ahead of time: every run starts the next one of its kind,
 * which makes its namespaces and cgroups while the current command, its diff and its commit go on.
 * Entering a cgroup v1 costs an RCU grace period (7–15 ms on this machine, most of a trivial RUN's
 * sandbox time); a prepared launcher has paid it by the time the next RUN needs it. close() ends
 * the prepared ones, and they die with this process in any case (PDEATHSIG). RUNs with bind mounts
 * get a launcher of their own, started when their mounts exist.
 */
export class SandboxPool implements SandboxRunner {
  /** The prepared launcher of each kind (modeKey). One: two measured no faster here. */
  private readonly ready = new Map<string, Launcher>();
  private closed = false;
  /** Starts the launchers (made on first use). */
  private server: SandboxServer | undefined;

  /**
   * runsLeft: how many RUNs the build may still ask for (its RUN instructions; cached ones never ask).
   * No launcher is prepared once none is left: a build without RUN steps never starts one, and a
   * build's last RUN does not start one that would only be ended.
   */
  constructor(
    private runsLeft = Number.POSITIVE_INFINITY,
    /** The build's RUN cgroup limits: they decide which cgroups a prepared launcher makes. */
    private readonly cgroup: CgroupLimits = {},
  ) {}

  /**
   * Starts a launcher of a RUN's usual kind (host network, cgroups) before any RUN asks: a build calls
   * it at its first cache miss, so that its first RUN finds one ready. Not at the start: a build that
   * hits every step would only pay for a launcher it ends unused.
   */
  prepare(): void {
    this.refill(modeOf({ cgroup: this.cgroup }));
  }

  /** Starts a launcher of this kind unless one is ready, no RUN is left, or the pool is closed. */
  private refill(mode: LaunchMode): void {
    const key = modeKey(mode);
    if (!this.closed && this.runsLeft > 0 && !this.ready.has(key)) this.ready.set(key, this.launcher(mode));
  }

  private launcher(mode: LaunchMode): Launcher {
    const server = (this.server ??= new SandboxServer());
    return new Launcher((sinks) => server.link(mode, sinks));
  }

  run(spec: SandboxSpec, opts: RunSandboxOptions = {}): Promise<SandboxResult> {
    this.runsLeft--;
    const mode = modeOf(spec);
    // A prepared launcher's mount namespace is a copy taken when it started: a bind source that Node
    // mounted since (a stage's rootfs for RUN --mount=type=bind,from=) is not in it.
    if (spec.mounts?.some((m) => m.type === "bind")) return runSandbox(spec, opts);
    const key = modeKey(mode);
    const launcher = this.ready.get(key) ?? this.launcher(mode);
    this.ready.delete(key);
    this.refill(mode);
    return launcher.run(spec, opts);
  }

  /** Ends the launchers started for runs that never came, and the server. */
  async close(): Promise<void> {
    this.closed = true;
    const idle = [...this.ready.values()];
    this.ready.clear();
    await Promise.all(idle.map((l) => l.discard()));
    await this.server?.close();
  }
}
