import type { ProgressSink } from "../progress/events.js";

/** Emit at most every this many bytes (and always at the start and the end) to keep reporters cheap. */
const STEP = 4 << 20;

/** Byte progress of one blob, as "transfer" events. */
export class TransferProgress {
  private current = 0;
  private lastEmitted = -1;

  constructor(
    private readonly sink: ProgressSink | undefined,
    private readonly id: string,
    private readonly name: string,
    private readonly total: number,
  ) {}

  add(bytes: number): void {
    this.current += bytes;
    if (this.current - this.lastEmitted >= STEP || this.current >= this.total) this.emit();
  }

  /** A retried transfer starts over. */
  reset(): void {
    this.current = 0;
    this.emit();
  }

  done(): void {
    this.current = this.total;
    this.emit();
  }

  private emit(): void {
    if (!this.sink || this.current === this.lastEmitted) return;
    this.lastEmitted = this.current;
    this.sink.emit({
      type: "transfer",
      id: this.id,
      name: this.name,
      current: this.current,
      total: this.total,
    });
  }
}
