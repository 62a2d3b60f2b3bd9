// Warnings of commands that have no progress view (pull, push, login): one `warning: …` line each on
// stderr, as the build's plain progress prints them.
import type { ProgressSink } from "../src/progress/events.js";

export const stderrWarnings: ProgressSink = {
  emit(e) {
    if (e.type === "warning") process.stderr.write(`warning: ${e.message}\n`);
  },
  close() {},
};
