import type { ProgressSink } from "./events.js";
import { JsonReporter } from "./json.js";
import { PlainReporter } from "./plain.js";
import type { TextOut } from "./text-out.js";

export type ProgressMode = "plain" | "json" | "auto";

/** The reporter for --progress; "auto" is plain until a tty reporter exists. */
export function createReporter(mode: ProgressMode, out: TextOut = process.stderr): ProgressSink {
  switch (mode) {
    case "json":
      return new JsonReporter(out);
    case "plain":
    case "auto":
      return new PlainReporter(out);
  }
}
