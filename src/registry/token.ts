import { TTLCache } from "@isaacs/ttlcache";
import type { Credentials } from "./credentials.js";
import { RegistryError, describeFailure, isRetriableStatus } from "./errors.js";
import { withRetry } from "./retry.js";
import { httpRequest } from "../http/client.js";
import type { Challenge } from "./www-authenticate.js";

/** The spec's default lifetime when a token server leaves expires_in out. */
const DEFAULT_EXPIRES_S = 60;
/** Renew a little early so that a token never expires between the cache check and the request. */
const EARLY_RENEWAL = 0.9;

interface TokenResponse {
  token?: string;
  access_token?: string;
  expires_in?: number;
}

export interface TokenRequest {
  registry: string;
  challenge: Challenge;
  scopes: readonly string[];
  creds: Credentials | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Bearer tokens cached per token server, user and scope set until they expire: one token-server request
 * per scope, however many requests, parallel uploads and clients in this process use it.
 */
export class TokenCache {
  private readonly tokens = new TTLCache<string, string>({ max: 1000 });
  private readonly inflight = new Map<string, Promise<string>>();

  async token(req: TokenRequest): Promise<string> {
    const { challenge, creds } = req;
    const sorted = [...new Set(req.scopes)].sort();
    const key = [challenge.params.realm, challenge.params.service, creds?.username, sorted.join(" ")].join(
      "|",
    );
    const cached = this.tokens.get(key);
    if (cached !== undefined) return cached;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = fetchToken(req, sorted).then(
        ({ token, ttlMs }) => {
          this.tokens.set(key, token, { ttl: ttlMs });
          this.inflight.delete(key);
          return token;
        },
        (err: unknown) => {
          this.inflight.delete(key);
          throw err;
        },
      );
      this.inflight.set(key, pending);
    }
    return pending;
  }
}

async function fetchToken(req: TokenRequest, scopes: string[]): Promise<{ token: string; ttlMs: number }> {
  const { challenge, creds, registry } = req;
  const realm = challenge.params.realm;
  if (!realm) throw new RegistryError(`${registry}: Bearer challenge without a realm`, 401, false);
  const url = new URL(realm);
  if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
  for (const s of scopes) url.searchParams.append("scope", s);
  const headers: Record<string, string> = {};
  if (creds) headers.authorization = basicAuth(creds);
  return withRetry(
    async () => {
      const res = await httpRequest(url, { headers, signal: req.signal });
      if (!res.ok) {
        const why = await describeFailure(res);
        const hint =
          res.status === 401
            ? ` (${creds ? "credentials were rejected" : "no credentials"} for ${registry})`
            : "";
        throw new RegistryError(
          `token server ${realm}: ${why}${hint}`,
          res.status,
          isRetriableStatus(res.status),
        );
      }
      const body = (await res.json()) as TokenResponse;
      const token = body.token ?? body.access_token;
      if (!token) throw new RegistryError(`token server ${realm}: answer has no token`, res.status, false);
      const expires = body.expires_in && body.expires_in > 0 ? body.expires_in : DEFAULT_EXPIRES_S;
      return { token, ttlMs: Math.floor(expires * 1000 * EARLY_RENEWAL) };
    },
    { signal: req.signal },
  );
}

/** The process's token cache, shared by every client. */
export const tokenCache = new TokenCache();

export function basicAuth(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
}
