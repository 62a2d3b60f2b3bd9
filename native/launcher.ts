// The launcher protocol: how Node reaches one `tsbuild-sandbox --spec-fd` launcher
// (native/src/sandbox_main.c), whether Node spawned it on its own (sandbox.ts) or the build's sandbox
// server started it (sandbox-server.ts). Either way the launcher is started with launchArgs before its
// spec exists, gets the spec's JSON (or EOF: not needed) on fd 4, writes the command's output to its
// stdout and stderr and its one-line JSON result to fd 3, and exits with the command's status (125:
// its own error). Both sides import it from here, so that neither imports the other.

/** What a launcher must know before its spec: the clone flags and whether it enters cgroups. */
export interface LaunchMode {
  networkNone: boolean;
  cgroup: boolean;
  /** Cgroup controllers to make besides memory, pids and cpuacct: "cpu", "cpuset", "blkio". */
  cgroupControllers?: string[];
}

/** What a launcher's link reports: the command's output and the launcher's one result line. */
export interface LauncherSinks {
  output(stream: "stdout" | "stderr", chunk: Buffer): void;
  result(chunk: Buffer): void;
}

export interface LauncherExit {
  code: number | null;
  killedBy: string | null;
  error?: Error;
}

/**
 * How Node reaches one launcher in `--spec-fd` mode: a process of its own (spawnedLauncher in
 * sandbox.ts), or one the build's sandbox server started (sandbox-server.ts).
 */
export interface LauncherLink {
  /** Sends the spec; undefined sends EOF instead, and the launcher exits unused. Once. */
  send(specJson: string | undefined): void;
  kill(signal: "SIGTERM" | "SIGKILL"): void;
  /** Settles when the launcher has exited and its output is drained. */
  readonly exited: Promise<LauncherExit>;
}

/** The launcher's arguments: its spec on fd 4, its result on fd 3, and the mode. */
export function launchArgs(mode: LaunchMode): string[] {
  const args = ["--spec-fd", "4", "--result-fd", "3"];
  if (mode.networkNone) args.push("--network-none");
  if (mode.cgroup) args.push("--cgroup");
  if (mode.cgroup && mode.cgroupControllers?.length)
    args.push("--cgroup-controllers", mode.cgroupControllers.join(","));
  return args;
}
