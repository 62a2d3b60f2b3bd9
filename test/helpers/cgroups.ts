// RUN cgroups as the host sees them: under the cgroup the test process (and so the tsbuild it starts)
// runs in, in a parent dir of the test's own (TSBUILD_CGROUP_PARENT), so that "no cgroup left"
// counts only what this test made while other tests build at the same time.
import { existsSync, readFileSync, readdirSync, rmdirSync } from "node:fs";

/** The v1 controllers RUN cgroups may use (native/src/cgroup_fs.c). */
export const CONTROLLERS = ["memory", "pids", "cpuacct", "cpu", "cpuset", "blkio"];

/** This process's cgroup path ("/a/b", "" for the root) in a v1 controller's hierarchy. */
export function callerCgroup(controller: string): string {
  for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
    const [, list, path] = line.split(":");
    if (list?.split(",").includes(controller)) return path === "/" ? "" : path!;
  }
  throw new Error(`no ${controller} cgroup in /proc/self/cgroup`);
}

/** Where a build started by this process makes its RUN cgroups of one controller. */
export function cgroupParentDir(parent: string, controller = "memory"): string {
  return `/sys/fs/cgroup/${controller}${callerCgroup(controller)}/${parent}`;
}

/** The RUN cgroups (leases: <pid>-<start>-<hex>) under the parent, in one controller. */
export function runCgroups(parent: string, controller = "memory"): string[] {
  const dir = cgroupParentDir(parent, controller);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((d) => /^\d+-\d+-[0-9a-f]{6}$/.test(d));
}

/** Every RUN cgroup of the parent left in any controller, as "controller/lease". */
export function leftoverCgroups(parent: string): string[] {
  return CONTROLLERS.flatMap((c) => runCgroups(parent, c).map((l) => `${c}/${l}`));
}

/** Removes the test's parent dirs (a test that leaves one has already failed on it). */
export function removeCgroupParents(parent: string): void {
  for (const c of CONTROLLERS) {
    try {
      rmdirSync(cgroupParentDir(parent, c));
    } catch {
      // never made, already removed by the last launcher, or not empty (reported by the test)
    }
  }
}

/** The cgroup dir of a host process in one controller, from /proc/PID/cgroup. */
export function processCgroupDir(pid: number | string, controller: string): string {
  for (const line of readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n")) {
    const [, list, path] = line.split(":");
    if (list?.split(",").includes(controller))
      return `/sys/fs/cgroup/${controller}${path === "/" ? "" : path}`;
  }
  throw new Error(`process ${pid} is in no ${controller} cgroup`);
}

/** The cgroup2 mount of this host (the unified root, or the hybrid layout's "unified"); undefined if none. */
export function cgroup2Mount(): string | undefined {
  for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
    const [, target, type] = line.split(" ");
    if (type === "cgroup2") return target;
  }
  return undefined;
}

/** The cgroup v2 dir of a host process under the cgroup2 mount, from the "0::PATH" line. */
export function processCgroup2Dir(pid: number | string, mount: string): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("0::"));
  if (!line) throw new Error(`process ${pid} is in no cgroup v2`);
  const path = line.slice(3);
  return `${mount}${path === "/" ? "" : path}`;
}

/** A cgroup file's text without its trailing newline; undefined when the file does not exist. */
export function readCgroupFile(dir: string, file: string): string | undefined {
  try {
    return readFileSync(`${dir}/${file}`, "utf8").trimEnd();
  } catch {
    return undefined;
  }
}
