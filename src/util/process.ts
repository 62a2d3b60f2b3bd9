import { readFileSync } from "node:fs";

/**
 * The kernel's start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), or
 * undefined when it is not readable. Together with the pid it names a process even after pid reuse.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: fields after it follow the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

/** Whether `pid` is alive (and, when `startTime` is given, is still the same process). */
export function processIsAlive(pid: number, startTime?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (startTime === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === startTime;
}

let ownTag: string | undefined;

/** This process as "pid-starttime": a name for it that no later process with its pid can have. */
export function processTag(): string {
  return (ownTag ??= `${process.pid}-${processStartTime(process.pid) ?? ""}`);
}

/** Whether the process a processTag names is still running. */
export function processTagAlive(tag: string): boolean {
  const [pid, start] = tag.split("-");
  return processIsAlive(Number(pid), start || undefined);
}
