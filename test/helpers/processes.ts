// Host processes as tests look for them: by command line, waited for with a bound.
import { readdirSync, readFileSync } from "node:fs";

/** Host pids of the processes whose command line (NULs as spaces) satisfies `match`. */
function processesWhere(match: (cmdline: string) => boolean): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (match(readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " "))) found.push(pid);
    } catch {
      // gone while we looked
    }
  }
  return found;
}

/** Processes whose command line holds `marker`. */
export function processesWith(marker: string): string[] {
  return processesWhere((cmdline) => cmdline.includes(marker));
}

/** Host pid of the process whose command line is exactly `sleep N` (tests use unique N). */
export function sleepPid(n: number): string | undefined {
  return processesWhere((cmdline) => cmdline === `sleep ${n} `)[0];
}

/** Polls check every 20 ms until it holds or ms have passed; returns its last answer. */
export async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

/** Polls until `sleep N` runs (its host pid), or until stop() says to give up; undefined then. */
export async function waitForSleep(n: number, stop: () => boolean, ms = 60_000): Promise<string | undefined> {
  let pid: string | undefined;
  await eventually(() => (pid = sleepPid(n)) !== undefined || stop(), ms);
  return pid;
}
