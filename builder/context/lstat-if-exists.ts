import { lstatSync } from "node:fs";
import { FileStat } from "../../native/file-stat.js";

/** lstat, or undefined when nothing is there, also when a parent is a file (ENOTDIR), which Node throws for. */
export function lstatIfExists(path: string): FileStat | undefined {
  try {
    const st = lstatSync(path, { bigint: true, throwIfNoEntry: false });
    return st && FileStat.fromBigIntStats(st);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw err;
  }
}
