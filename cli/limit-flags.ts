// `tsbuild build`'s resource limit flags, spelled and valued as docker's and buildah's: --memory 64m,
// --cpus 0.5, --ulimit nofile=1024:2048. Each bad value is a usage error (exit 2) naming its flag,
// found before the build starts.
import { cpus } from "node:os";
import type { Command } from "commander";
import type { RunLimits, Ulimit } from "../builder/ops/run-limits.js";
import { UsageError } from "../src/errors.js";
import { parseSize } from "./commands/prune.js";
import { collectList } from "./options.js";

export interface LimitFlags {
  memory?: string;
  memorySwap?: string;
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpus?: string;
  cpusetCpus?: string;
  pidsLimit?: string;
  blkioWeight?: string;
  ulimit: string[];
  shmSize?: string;
}

export function limitOptions(cmd: Command): void {
  cmd
    .option("--memory <size>", "memory limit of each RUN (e.g. 512m, 1g)")
    .option(
      "--memory-swap <size>",
      "memory plus swap of each RUN; -1: unlimited swap (default: twice --memory)",
    )
    .option("--cpu-shares <n>", "CPU shares (relative weight) of each RUN")
    .option("--cpu-period <us>", "CFS period of each RUN, in microseconds")
    .option("--cpu-quota <us>", "CFS quota of each RUN per period, in microseconds")
    .option("--cpus <n>", "CPUs each RUN may use (e.g. 0.5, 1.5)")
    .option("--cpuset-cpus <list>", "CPUs each RUN may run on (e.g. 0-1, 0,2)")
    .option("--pids-limit <n>", "most processes in each RUN; -1 or 0: unlimited (default: 4096)")
    .option("--blkio-weight <n>", "block I/O weight of each RUN, 10 to 1000")
    .option(
      "--ulimit <name=soft[:hard]>",
      "a ulimit of each RUN, e.g. nofile=1024:2048 (repeatable)",
      collectList,
      [],
    )
    .option("--shm-size <size>", "size of each RUN's /dev/shm (default: 64m)");
}

/** An integer flag in [min, max]. */
function integer(flag: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`${flag} ${text}: expected a whole number ${range}`);
  }
  return n;
}

/** Docker refuses memory limits under 6 MiB: the sandbox itself would not start. */
const MIN_MEMORY = 6 * 1024 * 1024;

function memoryOf(flags: LimitFlags): Pick<RunLimits, "memory" | "memorySwap"> {
  const out: Pick<RunLimits, "memory" | "memorySwap"> = {};
  if (flags.memory !== undefined) {
    out.memory = parseSize(flags.memory, "--memory");
    if (out.memory < MIN_MEMORY) throw new UsageError(`--memory ${flags.memory}: the minimum is 6m`);
  }
  if (flags.memorySwap !== undefined) {
    if (out.memory === undefined)
      throw new UsageError(`--memory-swap ${flags.memorySwap}: needs --memory as well`);
    out.memorySwap = flags.memorySwap.trim() === "-1" ? -1 : parseSize(flags.memorySwap, "--memory-swap");
    if (out.memorySwap !== -1 && out.memorySwap < out.memory)
      throw new UsageError(
        `--memory-swap ${flags.memorySwap}: must be at least --memory (${flags.memory}), or -1 for unlimited swap`,
      );
  }
  return out;
}

function cpuOf(flags: LimitFlags): Pick<RunLimits, "cpuShares" | "cpuPeriod" | "cpuQuota" | "cpusetCpus"> {
  const out: ReturnType<typeof cpuOf> = {};
  if (flags.cpuShares !== undefined) out.cpuShares = integer("--cpu-shares", flags.cpuShares, 2, 262144);
  if (flags.cpuPeriod !== undefined) out.cpuPeriod = integer("--cpu-period", flags.cpuPeriod, 1000, 1000000);
  if (flags.cpuQuota !== undefined) out.cpuQuota = integer("--cpu-quota", flags.cpuQuota, 1000);
  if (flags.cpus !== undefined) {
    if (flags.cpuPeriod !== undefined || flags.cpuQuota !== undefined)
      throw new UsageError(
        `--cpus ${flags.cpus}: conflicts with --cpu-period and --cpu-quota (use one or the other)`,
      );
    const n = Number(flags.cpus);
    const max = cpus().length;
    if (!/^\d*\.?\d+$/.test(flags.cpus.trim()) || !(n >= 0.01) || n > max)
      throw new UsageError(`--cpus ${flags.cpus}: expected a number of CPUs from 0.01 to ${max}`);
    out.cpuPeriod = 100000;
    out.cpuQuota = Math.round(n * 100000);
  }
  if (flags.cpusetCpus !== undefined) out.cpusetCpus = cpusetOf(flags.cpusetCpus);
  return out;
}

/** "0-1,3": each CPU must exist here, as docker checks. */
function cpusetOf(text: string): string {
  const max = cpus().length - 1;
  const bad = (why: string) => new UsageError(`--cpuset-cpus ${text}: ${why}`);
  for (const part of text.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw bad("expected a CPU list such as 0-1 or 0,2");
    const [lo, hi] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (lo > hi) throw bad(`range ${part} is backwards`);
    if (hi > max) throw bad(`this machine's CPUs are 0-${max}`);
  }
  return text.replace(/\s+/g, "");
}

/** Docker's ulimit names (go-units), the same set as native/src/sandbox_rlimit.c takes. */
const ULIMITS = new Set(
  "as core cpu data fsize locks memlock msgqueue nice nofile nproc rss rtprio rttime sigpending stack".split(
    " ",
  ),
);

/** `name=soft[:hard]`; a lone value is both; -1 or "unlimited": no limit. */
export function parseUlimit(text: string): Ulimit {
  const bad = (why: string) => new UsageError(`--ulimit ${text}: ${why}`);
  const m = /^([a-z]+)=([^:]+)(?::([^:]+))?$/.exec(text.trim());
  if (!m) throw bad("expected NAME=SOFT[:HARD], e.g. nofile=1024:2048");
  if (!ULIMITS.has(m[1]!)) throw bad(`unknown limit ${m[1]} (one of ${[...ULIMITS].join(", ")})`);
  const value = (v: string): number => {
    if (v === "unlimited" || v === "-1") return -1;
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw bad(`${v} is not a whole number`);
    return Number(v);
  };
  const soft = value(m[2]!);
  const hard = m[3] === undefined ? soft : value(m[3]);
  if (hard !== -1 && (soft === -1 || soft > hard)) throw bad("the soft limit must not exceed the hard limit");
  return { name: m[1]!, soft, hard };
}

/** The checked limits; a later --ulimit of the same name wins, as in docker. */
export function parseLimitFlags(flags: LimitFlags): RunLimits {
  const limits: RunLimits = { ...memoryOf(flags), ...cpuOf(flags) };
  if (flags.pidsLimit !== undefined)
    limits.pidsLimit = Math.max(0, integer("--pids-limit", flags.pidsLimit, -1));
  if (flags.blkioWeight !== undefined)
    limits.blkioWeight = integer("--blkio-weight", flags.blkioWeight, 10, 1000);
  if (flags.shmSize !== undefined) {
    limits.shmSize = parseSize(flags.shmSize, "--shm-size");
    if (limits.shmSize <= 0) throw new UsageError(`--shm-size ${flags.shmSize}: must be more than 0`);
  }
  const ulimits = new Map(flags.ulimit.map((u) => parseUlimit(u)).map((u) => [u.name, u]));
  if (ulimits.size) limits.ulimits = [...ulimits.values()];
  return limits;
}
