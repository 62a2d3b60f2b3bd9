// Shared by the run-limits CLI tests: a store, a context and a cgroup parent of the test's own, and a
// build started in the background whose RUN sleeps while the test looks at it from the host.
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_STAGE, BUSYBOX } from "../cache/helpers.js";
import { leftoverCgroups, removeCgroupParents } from "../../helpers/cgroups.js";
import { waitForSleep } from "../../helpers/processes.js";
import { type RunResult, TSBUILD, tempDir, tsbuild } from "../../helpers/tsbuild.js";

export { BASE_STAGE, BUSYBOX };

/** A store, a context and a cgroup parent (TSBUILD_CGROUP_PARENT) of one test file's own. */
export class LimitsBench {
  readonly store = tempDir("limits-store");
  readonly ctx = tempDir("limits-ctx");
  readonly cgroupParent: string;
  /** Unique `sleep N` markers, so that the host sees only this file's RUN. */
  private marker: number;

  constructor(name: string, firstMarker: number) {
    this.cgroupParent = `tsbuild-test-${name}-${process.pid}`;
    this.marker = firstMarker;
  }

  get env(): NodeJS.ProcessEnv {
    return { TSBUILD_CGROUP_PARENT: this.cgroupParent };
  }

  nextMarker(): number {
    return ++this.marker;
  }

  /** Writes the Dockerfile: the busybox base stage, then these lines. */
  dockerfile(...lines: string[]): void {
    writeFileSync(join(this.ctx.path, "Dockerfile"), [BASE_STAGE, ...lines, ""].join("\n"));
  }

  build(args: string[]): RunResult {
    return tsbuild(["build", ...BUSYBOX, "--progress", "plain", ...args, this.ctx.path], {
      root: this.store.path,
      env: this.env,
    });
  }

  /** Starts `tsbuild build` in a process group of its own (so that the test can kill all of it). */
  spawnBuild(args: string[]): { child: ChildProcess; done: Promise<RunResult> } {
    const child = spawn(TSBUILD, ["build", ...BUSYBOX, "--progress", "plain", ...args, this.ctx.path], {
      env: { ...process.env, TSBUILD_ROOT: this.store.path, ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const done = new Promise<RunResult>((resolve) =>
      child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr })),
    );
    return { child, done };
  }

  /**
   * Builds with `RUN <before>; sleep N; true` last; while the sleep runs, `inspect` gets its host pid;
   * then the sleep is killed and the build finishes.
   */
  async whileRunning<T>(
    args: string[],
    inspect: (pid: string) => T,
    before = "true",
  ): Promise<RunResult & { seen: T }> {
    const n = this.nextMarker();
    this.dockerfile(`RUN ${before}; sleep ${n}; true`);
    const { done } = this.spawnBuild(["--no-cache", ...args]);
    let finished = false;
    void done.then(() => (finished = true));
    const pid = await waitForSleep(n, () => finished);
    if (!pid) throw new Error(`the RUN never slept: ${(await done).stderr}`);
    let seen: T;
    try {
      seen = inspect(pid);
    } finally {
      process.kill(Number(pid), "SIGKILL");
    }
    return { ...(await done), seen };
  }

  leftoverCgroups(): string[] {
    return leftoverCgroups(this.cgroupParent);
  }

  cleanup(): void {
    this.store.cleanup();
    this.ctx.cleanup();
    removeCgroupParents(this.cgroupParent);
  }
}

/** The `error:` lines of a CLI's stderr. */
export function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("error:"));
}

/** A JavaScript stack frame anywhere in the output: never without --debug. */
export const STACK_FRAME = /^\s+at .+[(:]\d+/m;
