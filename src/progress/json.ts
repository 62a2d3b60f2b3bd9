import type { ProgressEvent, ProgressSink } from "./events.js";
import type { TextOut } from "./text-out.js";

/** One JSON object per event and line, for tools. */
export class JsonReporter implements ProgressSink {
  constructor(private readonly out: TextOut = process.stderr) {}

  emit(e: ProgressEvent): void {
    this.out.write(`${JSON.stringify(e)}\n`);
  }

  close(): void {}
}
