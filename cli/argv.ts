// Docker's flag spellings that commander does not parse by itself, rewritten before it sees them:
// `--flag=true|false` on a boolean flag (docker's and buildx's booleans all take it) and a bare
// `--pull` before the context (`tsbuild build --pull .`: commander would take "." as the policy).
import type { Command, Option } from "commander";
import { UsageError } from "../src/errors.js";

const TRUE = new Set(["true", "1"]);
const FALSE = new Set(["false", "0"]);
/** Values `--pull` takes; anything else after a bare `--pull` is the next argument. */
const PULL_VALUES = new Set(["always", "missing", "never", "true", "false"]);

/** `args` (command name first) with booleans spelled `--flag=VALUE` and bare `--pull` made plain. */
export function normalizeFlags(command: Command | undefined, args: string[]): string[] {
  if (!command) return args;
  const byLong = new Map<string, Option>();
  for (const o of command.options) if (o.long) byLong.set(o.long, o);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    if (arg === "--pull" && byLong.has("--pull")) {
      const next = args[i + 1];
      out.push(next !== undefined && PULL_VALUES.has(next) ? arg : "--pull=always");
      continue;
    }
    const eq = arg.indexOf("=");
    const option = arg.startsWith("--") && eq > 0 ? byLong.get(arg.slice(0, eq)) : undefined;
    if (!option || option.required || option.optional) {
      out.push(arg);
      continue;
    }
    const value = arg.slice(eq + 1).toLowerCase();
    if (TRUE.has(value)) out.push(arg.slice(0, eq));
    else if (!FALSE.has(value))
      throw new UsageError(`${arg}: ${arg.slice(0, eq)} is a boolean flag: expected true or false`);
    // `--flag=false` is the flag's default: it is left out (for `--no-cache`, the cache is used).
  }
  return out;
}
