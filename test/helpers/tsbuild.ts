// Runs the real CLI (bin/tsbuild → dist/) as a user would, against a store root of the test's own.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dirname, "../..");
export const TSBUILD = join(REPO, "bin", "tsbuild");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function tsbuild(
  args: string[],
  opts: { root: string; cwd?: string; env?: NodeJS.ProcessEnv },
): RunResult {
  const r = spawnSync(TSBUILD, args, {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, TSBUILD_ROOT: opts.root, ...opts.env },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), `tsbuild-${prefix}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Mounts visible on the host that involve `root` (a test's store): the build's own mounts live in its
 * private namespace and must die with it. Filtering by root keeps other tests' mounts out of the count.
 */
export function leftoverMounts(root: string): string[] {
  return readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .filter((line) => line.includes(root));
}

/** Parses plain progress: "#3 CACHED" / "#3 DONE 1.2s" lines, keyed by the step's name line. */
export function stepOutcomes(stderr: string): { name: string; outcome: "CACHED" | "DONE" | "ERROR" }[] {
  const names = new Map<string, string>();
  const out: { name: string; outcome: "CACHED" | "DONE" | "ERROR" }[] = [];
  for (const line of stderr.split("\n")) {
    const head = /^(#\d+) (\[.*)$/.exec(line);
    if (head) names.set(head[1]!, head[2]!);
    const end = /^(#\d+) (CACHED|DONE|ERROR)\b/.exec(line);
    if (end)
      out.push({ name: names.get(end[1]!) ?? end[1]!, outcome: end[2] as "CACHED" | "DONE" | "ERROR" });
  }
  return out;
}

/** The store's snapshots by key, with their kind, read from snapshots/records/<key>.json. */
export function snapshotKinds(root: string): Map<string, string> {
  const dir = join(root, "snapshots", "records");
  const out = new Map<string, string>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".json"))) {
    const r = JSON.parse(readFileSync(join(dir, name), "utf8")) as { key: string; kind: string };
    out.set(r.key, r.kind);
  }
  return out;
}

/** Snapshots left active or as views: a finished build, failed or not, leaves none. */
export function unfinishedSnapshots(root: string): string[] {
  return [...snapshotKinds(root)].filter(([, kind]) => kind !== "committed").map(([key]) => key);
}
