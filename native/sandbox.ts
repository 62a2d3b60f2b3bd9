// The Node side of the sandbox launcher (native/src/sandbox_*.c): writes the spec, runs
// tsbuild-sandbox, streams the command's output and reads its one-line JSON result from fd 3.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { sandboxBin } from "./paths.js";

export { sandboxBin, unshareBin } from "./paths.js";

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
  cgroup?: { memoryLimit?: number; pidsLimit?: number };
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

function collect(stream: Readable | null): () => string {
  const chunks: Buffer[] = [];
  stream?.on("data", (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks).toString("utf8");
}

/**
 * Runs spec.args in a fresh sandbox. Resolves with the command's result (a non-zero exit is a
 * result); rejects when the launcher itself fails (bad spec, mount error, unknown user ...) or
 * when opts.signal aborts.
 */
export function runSandbox(spec: SandboxSpec, opts: RunSandboxOptions = {}): Promise<SandboxResult> {
  const { signal, onOutput } = opts;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  const specFile = join(tmpdir(), `tsbuild-sandbox-${randomBytes(8).toString("hex")}.json`);
  writeFileSync(specFile, JSON.stringify(spec), { mode: 0o600, flag: "wx" });

  return new Promise<SandboxResult>((resolve, reject) => {
    const child = spawn(sandboxBin(), ["--spec", specFile, "--result-fd", "3"], {
      stdio: ["ignore", "pipe", "pipe", "pipe"],
    });
    const resultText = collect(child.stdio[3] as Readable);
    let stderrTail = Buffer.alloc(0);
    child.stdout!.on("data", (c: Buffer) => onOutput?.("stdout", c));
    child.stderr!.on("data", (c: Buffer) => {
      onOutput?.("stderr", c);
      stderrTail = Buffer.concat([stderrTail, c]).subarray(-STDERR_TAIL_BYTES);
    });

    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
    };
    signal?.addEventListener("abort", onAbort, { once: true });

    const finish = (err: Error | null, result?: SandboxResult): void => {
      signal?.removeEventListener("abort", onAbort);
      clearTimeout(killTimer);
      rmSync(specFile, { force: true });
      if (err) reject(err);
      else resolve(result!);
    };

    child.on("error", (err) =>
      finish(new Error(`tsbuild-sandbox: cannot run ${sandboxBin()}: ${err.message}`)),
    );
    child.on("close", (code, killedBy) => {
      if (signal?.aborted) return finish(abortError(signal));
      const line = resultText().trim();
      let parsed: (SandboxResult & { error?: undefined }) | { error: string } | undefined;
      try {
        parsed = line ? JSON.parse(line) : undefined;
      } catch {
        parsed = undefined;
      }
      if (parsed && "error" in parsed && parsed.error !== undefined) {
        return finish(new Error(`tsbuild-sandbox: ${parsed.error} (running ${JSON.stringify(spec.args)})`));
      }
      if (parsed) return finish(null, parsed as SandboxResult);
      const why = killedBy
        ? `killed by ${killedBy}`
        : code === LAUNCHER_ERROR_EXIT
          ? "failed"
          : `exited ${code}`;
      const tail = stderrTail.toString("utf8").trim();
      finish(new Error(`tsbuild-sandbox ${why} without a result${tail ? `: ${tail}` : ""}`));
    });
  });
}
