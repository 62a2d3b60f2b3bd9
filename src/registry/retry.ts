import { setTimeout as sleep } from "node:timers/promises";
import { RegistryError } from "./errors.js";

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  /** Called before each new try, e.g. to reset byte progress. */
  onRetry?: (err: unknown, attempt: number) => void;
}

/**
 * True for failures that a new try may fix: a retriable registry answer, or a network error
 * (fetch reports a reset or a refused connection as a TypeError whose cause is the socket error).
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof RegistryError) return err.retriable;
  if (err instanceof TypeError) return err.message === "fetch failed" || err.message === "terminated";
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ECONNRESET" || code === "EPIPE" || code === "ECONNREFUSED" || code === "UND_ERR_SOCKET";
}

/** Runs `fn` until it succeeds, retrying transient failures with exponential backoff and jitter. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 5;
  const base = opts.baseDelayMs ?? 200;
  const max = opts.maxDelayMs ?? 5000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (opts.signal?.aborted || attempt >= attempts || !isTransient(err)) throw describeNetworkError(err);
      opts.onRetry?.(err, attempt);
      const delay = Math.min(max, base * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      await sleep(delay, undefined, { signal: opts.signal });
    }
  }
}

/** fetch's "fetch failed" says nothing: surface the socket error underneath it. */
function describeNetworkError(err: unknown): unknown {
  if (!(err instanceof TypeError)) return err;
  const cause = (err as TypeError & { cause?: { message?: string; code?: string } }).cause;
  const why = cause?.code ?? cause?.message;
  return new RegistryError(why ? `${err.message} (${why})` : err.message, 0, true);
}
