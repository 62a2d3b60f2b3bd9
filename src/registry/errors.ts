import { TsbuildError } from "../errors.js";
import type { HttpResponse } from "../http/client.js";

/** An HTTP answer from a registry that the operation cannot use; `status` is 0 for network failures. */
export class RegistryError extends TsbuildError {
  constructor(
    message: string,
    readonly status: number,
    /** 5xx, 429 and dropped connections may succeed when tried again. */
    readonly retriable: boolean,
  ) {
    super(message);
  }
}

interface DistributionErrorBody {
  errors?: { code?: string; message?: string }[];
}

/** "404 manifest unknown" from a distribution-spec error response. */
export async function describeFailure(res: HttpResponse): Promise<string> {
  let detail = "";
  try {
    const body = (await res.json()) as DistributionErrorBody;
    const first = body.errors?.[0];
    // The message reads better than the code ("manifest unknown" vs "MANIFEST_UNKNOWN").
    if (first) detail = first.message || first.code?.toLowerCase().replace(/_/g, " ") || "";
  } catch {
    // Not every failure has a JSON body (HEAD, proxies).
  }
  const text = detail || res.statusText.toLowerCase();
  return text ? `${res.status} ${text}` : String(res.status);
}

export function isRetriableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** Wraps a thrown error with the operation and the reference it was about. */
export function withContext(what: string, err: unknown): Error {
  if (err instanceof RegistryError)
    return new RegistryError(`${what}: ${err.message}`, err.status, err.retriable);
  if (err instanceof TsbuildError) return new TsbuildError(`${what}: ${err.message}`, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}
