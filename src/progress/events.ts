// What a build reports while it runs. Producers emit these; reporters (plain, json, tty) render them.
// Nothing else in the program prints.

export type ProgressEvent =
  | { type: "build-start"; steps: number; target: string }
  | { type: "step-start"; id: string; name: string; stage?: string; index: number; total: number }
  | { type: "step-cached"; id: string; name: string; index: number; total: number; savedMs?: number }
  | { type: "step-log"; id: string; stream: "stdout" | "stderr"; data: string }
  | { type: "step-done"; id: string; name: string; durationMs: number }
  | { type: "step-error"; id: string; name: string; message: string }
  | { type: "warning"; code: string; message: string; location?: string }
  | { type: "info"; message: string }
  /** Bytes of one blob moved to or from a registry; `current` restarts at 0 when a transfer is retried. */
  | { type: "transfer"; id: string; name: string; current: number; total: number }
  | {
      type: "build-done";
      steps: number;
      cached: number;
      durationMs: number;
      imageDigest?: string;
      imageName?: string;
      savedMs?: number;
    };

export interface ProgressSink {
  emit(e: ProgressEvent): void;
  close(): void;
}
