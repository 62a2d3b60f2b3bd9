import { MediaType } from "../oci/types.js";
import type { ProgressSink } from "../progress/events.js";
import { Authenticator, type CredentialSource } from "./auth.js";
import { getCredentials } from "./credentials.js";
import { RegistryError, describeFailure, isRetriableStatus } from "./errors.js";
import { type RetryOptions, withRetry } from "./retry.js";
import { type HttpResponse, httpRequest } from "../http/client.js";
import { registryBaseUrl } from "./transport.js";

/** Every manifest type tsbuild reads, so that the registry never down-converts to schema 1. */
export const MANIFEST_ACCEPT = [
  MediaType.imageManifest,
  MediaType.imageIndex,
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
].join(", ");

export interface ClientOptions {
  insecureRegistries?: readonly string[];
  credentials?: CredentialSource;
  signal?: AbortSignal;
  retry?: RetryOptions;
  /** Warnings of the HTTP stack (the trust store) go here as progress events. */
  progress?: ProgressSink;
}

export interface RequestOptions {
  scopes: readonly string[];
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Statuses that are answers, not failures. */
  expect: readonly number[];
}

/** A distribution-spec (OCI) registry over node:http: auth, retries and error messages in one place. */
export class RegistryClient {
  readonly baseUrl: string;
  readonly auth: Authenticator;
  readonly signal: AbortSignal | undefined;
  private readonly retry: RetryOptions;
  private readonly onWarning: ((message: string) => void) | undefined;

  constructor(
    readonly registry: string,
    opts: ClientOptions = {},
  ) {
    this.baseUrl = registryBaseUrl(registry, opts.insecureRegistries);
    this.signal = opts.signal;
    this.auth = new Authenticator(registry, opts.credentials ?? ((r) => getCredentials(r)), opts.signal);
    this.retry = { ...opts.retry, signal: opts.signal };
    const progress = opts.progress;
    this.onWarning =
      progress && ((message) => progress.emit({ type: "warning", code: "HttpTrust", message }));
  }

  url(pathOrUrl: string): string {
    return new URL(pathOrUrl, this.baseUrl).toString();
  }

  /** One request (plus one more after a first 401 teaches the auth scheme); throws RegistryError otherwise. */
  async requestOnce(method: string, pathOrUrl: string, opts: RequestOptions): Promise<HttpResponse> {
    const url = this.url(pathOrUrl);
    for (let authTry = 0; ; authTry++) {
      const headers: Record<string, string> = { ...opts.headers };
      const authorization = await this.auth.header(opts.scopes);
      if (authorization) headers.authorization = authorization;
      const res = await httpRequest(url, {
        method,
        headers,
        body: opts.body,
        signal: this.signal,
        onWarning: this.onWarning,
      });
      if (opts.expect.includes(res.status)) return res;
      // A first 401 teaches the scheme; parallel requests that went out unauthorized try once more too.
      if (res.status === 401 && authTry === 0 && (this.auth.learn(res) || authorization === undefined)) {
        await res.discard();
        continue;
      }
      if (res.status === 401) {
        await res.discard();
        throw new RegistryError(`401 unauthorized (${await this.auth.explain()})`, 401, false);
      }
      throw new RegistryError(await describeFailure(res), res.status, isRetriableStatus(res.status));
    }
  }

  /** requestOnce with retries on 5xx and dropped connections (only for bodies that can be sent again). */
  request(method: string, pathOrUrl: string, opts: RequestOptions): Promise<HttpResponse> {
    return withRetry(() => this.requestOnce(method, pathOrUrl, opts), this.retry);
  }

  withRetry<T>(fn: (attempt: number) => Promise<T>, onRetry?: RetryOptions["onRetry"]): Promise<T> {
    return withRetry(fn, { ...this.retry, onRetry });
  }

  /** GET /v2/: checks that the registry answers and learns its auth scheme. */
  async ping(): Promise<void> {
    const res = await this.request("GET", "/v2/", { scopes: [], expect: [200] });
    await res.discard();
  }

  /** HEAD a blob: true if the repository has it. */
  async hasBlob(repository: string, digest: string, scopes: readonly string[]): Promise<boolean> {
    const res = await this.request("HEAD", `/v2/${repository}/blobs/${digest}`, {
      scopes,
      expect: [200, 404],
    });
    await res.discard();
    return res.status === 200;
  }
}
