import type { Credentials } from "./credentials.js";
import { basicAuth, tokenCache } from "./token.js";
import type { HttpResponse } from "../http/client.js";
import { type Challenge, parseChallenge } from "./www-authenticate.js";

/** Where credentials come from; the default reads Docker's config.json (see credentials.ts). */
export type CredentialSource = (registry: string) => Promise<Credentials | undefined>;

/**
 * The Authorization header for a registry's requests. It learns the scheme from the registry's first
 * 401 (Basic, or Bearer with a token server) and then authorizes every later request up front, so that
 * upload bodies are never sent twice.
 */
export class Authenticator {
  private challenge: Challenge | undefined;
  private creds: Promise<Credentials | undefined> | undefined;
  constructor(
    readonly registry: string,
    private readonly source: CredentialSource,
    private readonly signal?: AbortSignal,
  ) {}

  credentials(): Promise<Credentials | undefined> {
    this.creds ??= this.source(this.registry);
    return this.creds;
  }

  /** The header for a request needing `scopes`, or undefined while no challenge is known. */
  async header(scopes: readonly string[]): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    const creds = await this.credentials();
    if (challenge.scheme === "basic") return creds ? basicAuth(creds) : undefined;
    if (challenge.scheme === "bearer") {
      const token = await tokenCache.token({
        registry: this.registry,
        challenge,
        scopes,
        creds,
        signal: this.signal,
      });
      return `Bearer ${token}`;
    }
    return undefined;
  }

  /** Records the challenge of a 401; true if it is new, so that one more try can succeed. */
  learn(res: HttpResponse): boolean {
    const challenge = parseChallenge(res.headers.get("www-authenticate"));
    if (!challenge) return false;
    const known = this.challenge;
    const isNew =
      !known || known.scheme !== challenge.scheme || known.params.realm !== challenge.params.realm;
    this.challenge = challenge;
    return isNew;
  }

  /** "no credentials for HOST" or "credentials for HOST were rejected", for 401 messages. */
  async explain(): Promise<string> {
    return (await this.credentials())
      ? `credentials for ${this.registry} were rejected`
      : `no credentials for ${this.registry}`;
  }
}

export const pullScope = (repository: string): string => `repository:${repository}:pull`;
export const pushScope = (repository: string): string => `repository:${repository}:pull,push`;
