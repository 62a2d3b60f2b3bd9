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

/** Socket-level failures (node:http, node:net) that a new connection may not meet again. */
const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ERR_STREAM_PREMATURE_CLOSE",
  "UND_ERR_SOCKET",
]);

/**
 * True for failures that a new try may fix: a retriable registry answer, or a network error
 * (node:http reports a reset, a refused connection or a body cut short as an error with a socket code).
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof RegistryError) return err.retriable;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && TRANSIENT_CODES.has(code);
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

/** A socket error says "socket hang up" or "read ECONNRESET": name it as a network failure. */
function describeNetworkError(err: unknown): unknown {
  if (err instanceof RegistryError || !(err instanceof Error)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === undefined || !TRANSIENT_CODES.has(code)) return err;
  const message = err.message.includes(code) ? err.message : `${err.message} (${code})`;
  return new RegistryError(`connection failed: ${message}`, 0, true);
}
