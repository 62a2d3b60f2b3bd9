import { type BigIntStats, lstatSync } from "node:fs";

/** lstat, or undefined when nothing is there, also when a parent is a file (ENOTDIR), which Node throws for. */
export function lstatIfExists(path: string): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true, throwIfNoEntry: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw err;
  }
}
