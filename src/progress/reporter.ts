import { UsageError } from "../errors.js";
import type { ProgressSink } from "./events.js";
import { JsonReporter } from "./json.js";
import { PlainReporter } from "./plain.js";
import { TtyReporter, type TtyOut } from "./tty.js";

export type ProgressMode = "plain" | "json" | "tty" | "auto";

/** What a reporter may write to: a stream that may be a terminal. */
export interface ReporterOut extends TtyOut {
  isTTY?: boolean;
}

/** The reporter for --progress; "auto" is the terminal view on a terminal (unless TERM=dumb), else plain. */
export function createReporter(
  mode: ProgressMode,
  out: ReporterOut = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): ProgressSink {
  switch (mode) {
    case "json":
      return new JsonReporter(out);
    case "plain":
      return new PlainReporter(out);
    case "tty":
      return new TtyReporter(out);
    case "auto":
      return out.isTTY && env.TERM !== "dumb" ? new TtyReporter(out) : new PlainReporter(out);
    default:
      throw new UsageError(`--progress ${String(mode)}: expected auto, plain, tty or json`);
  }
}
