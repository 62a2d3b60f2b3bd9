import http from "node:http";
import https from "node:https";
import { TsbuildError } from "../errors.js";
import { proxyAuthorization, proxyFor } from "./proxy.js";
import { extraCaContext } from "./trust.js";
import { tunnelAgent } from "./tunnel.js";

// tsbuild's one HTTP stack (registries, tokens, ADD <url>), over node:http and node:https. Node 20's fetch costs 2–4× the CPU of node:http for blob
// bodies (web streams, per-chunk promises and copies): on a 2-core machine that is the pull's limit.

/**
 * Keep-alive agents: blob transfers, HEADs and PATCH chunks reuse their connections. Made on first use:
 * node:http cannot be loaded while the CLI's start-up snapshot is built, and the HTTPS agent's trust
 * store (src/http/trust.ts) is only worth building when an HTTPS request is made.
 */
let httpAgent: http.Agent | undefined;
let httpsAgent: https.Agent | undefined;
/**
 * Warnings of the HTTPS agent's set-up (an unreadable extra CA file), kept as data until a request
 * that has somewhere to report them (its onWarning: the build's progress stream) takes them. This
 * module never prints.
 */
const pendingWarnings: string[] = [];

/** HTTPS agents that tunnel through a proxy (HTTPS_PROXY), by proxy URL. */
const tunnelAgents = new Map<string, https.Agent>();

function httpsAgentOptions(): https.AgentOptions {
  const secureContext = extraCaContext(process.env, (w) =>
    pendingWarnings.push(`ignoring extra CA certificates from ${w.path}: ${w.message}`),
  );
  return { keepAlive: true, scheduling: "lifo", ...(secureContext ? { secureContext } : {}) };
}

/** The agent for a request: direct, or (HTTPS through a proxy) a CONNECT-tunnelling one. */
function agentFor(secure: boolean, proxy: URL | undefined): http.Agent {
  // Plain HTTP through a proxy is an absolute-form request to the proxy: the usual agent pools those.
  if (!secure) return (httpAgent ??= new http.Agent({ keepAlive: true, scheduling: "lifo" }));
  if (!proxy) return (httpsAgent ??= new https.Agent(httpsAgentOptions()));
  let agent = tunnelAgents.get(proxy.href);
  if (!agent) tunnelAgents.set(proxy.href, (agent = tunnelAgent(proxy, httpsAgentOptions())));
  return agent;
}

/** Where a plain-HTTP request goes when HTTP_PROXY applies: the proxy, with the URL in full. */
function viaHttpProxy(url: URL, proxy: URL, headers: Record<string, string>): http.RequestOptions {
  const auth = proxyAuthorization(proxy);
  return {
    host: proxy.hostname,
    port: proxy.port || 80,
    path: url.href,
    headers: { ...headers, host: url.host, ...(auth ? { "proxy-authorization": auth } : {}) },
  };
}

/** A request whose socket stays silent this long fails (retriably), as fetch's 300 s timeouts did. */
const IDLE_TIMEOUT_MS = 300_000;
const MAX_REDIRECTS = 10;
/** Bodies up to this size are drained on discard so that their connection can be reused. */
const DRAIN_LIMIT = 1 << 16;

export interface HttpRequestInit {
  method?: string;
  /** Header names in lower case. */
  headers?: Record<string, string>;
  /** Buffers only, so that a redirect or a retry can send the body again. */
  body?: Buffer | string;
  signal?: AbortSignal | undefined;
  /** Where a warning of the HTTP stack's own goes (one about the trust store, say). */
  onWarning?: (message: string) => void;
}

/** A response whose body is a node stream; read it with bytes()/json() or consume `body`, else discard(). */
export class HttpResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;

  constructor(
    readonly url: string,
    readonly body: http.IncomingMessage,
  ) {
    this.status = body.statusCode ?? 0;
    this.statusText = body.statusMessage ?? "";
    this.headers = new Headers();
    const raw = body.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) this.headers.append(raw[i]!, raw[i + 1]!);
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  async bytes(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async text(): Promise<string> {
    return (await this.bytes()).toString("utf8");
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  /**
   * Drops the body: drained when small (awaiting its end, so that the next request reuses the
   * connection), else the socket is closed.
   */
  async discard(): Promise<void> {
    const body = this.body;
    body.on("error", () => undefined);
    const length = Number(body.headers["content-length"]);
    if (!body.complete && !Number.isNaN(length) && length > DRAIN_LIMIT) {
      body.destroy();
      return;
    }
    // Even a complete body must be read to its end: only then does the socket return to the pool.
    if (!body.readableEnded) {
      const ended = new Promise((resolve) => {
        body.once("end", resolve);
        body.once("close", resolve);
      });
      body.resume();
      await ended;
    }
  }
}

/** An error that carries a socket-level code, so that retries recognize it as transient. */
function transportError(message: string, code: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(message);
  err.code = code;
  return err;
}

function sendOnce(url: URL, init: HttpRequestInit): Promise<http.IncomingMessage> {
  const https_ = url.protocol === "https:";
  if (!https_ && url.protocol !== "http:") throw new TsbuildError(`${url.href}: unsupported protocol`);
  const body = typeof init.body === "string" ? Buffer.from(init.body) : init.body;
  const method = init.method ?? "GET";
  const headers: Record<string, string> = { ...init.headers };
  if (body) headers["content-length"] = String(body.length);
  else if (method !== "GET" && method !== "HEAD") headers["content-length"] = "0";
  const proxy = proxyFor(url);
  return new Promise((resolve, reject) => {
    const options: http.RequestOptions = {
      method,
      headers,
      agent: agentFor(https_, proxy),
      timeout: IDLE_TIMEOUT_MS,
      ...(init.signal ? { signal: init.signal } : {}),
    };
    if (init.onWarning) for (const w of pendingWarnings.splice(0)) init.onWarning(w);
    const req =
      proxy && !https_
        ? http.request({ ...options, ...viaHttpProxy(url, proxy, headers) }, resolve)
        : (https_ ? https : http).request(url, options, resolve);
    req.on("error", reject);
    req.on("timeout", () =>
      req.destroy(transportError(`${url.host}: no data for ${IDLE_TIMEOUT_MS / 1000} s`, "ETIMEDOUT")),
    );
    req.end(body);
  });
}

/**
 * One HTTP exchange, following redirects as fetch does: 303 (and 301/302 after a POST) become a GET
 * without body, others repeat the request; Authorization is dropped when the redirect leaves the origin
 * (a blob's CDN or S3 must not see registry credentials).
 */
export async function httpRequest(url: string | URL, init: HttpRequestInit = {}): Promise<HttpResponse> {
  let current = new URL(url);
  let req: HttpRequestInit = init;
  for (let redirects = 0; ; redirects++) {
    const res = await sendOnce(current, req);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (![301, 302, 303, 307, 308].includes(status) || !location || redirects >= MAX_REDIRECTS) {
      return new HttpResponse(current.href, res);
    }
    await new HttpResponse(current.href, res).discard();
    const next = new URL(location, current);
    const method = req.method ?? "GET";
    if (status === 303 || ((status === 301 || status === 302) && method === "POST")) {
      const { "content-type": _type, ...rest } = req.headers ?? {};
      req = { ...req, method: method === "HEAD" ? "HEAD" : "GET", headers: rest, body: undefined };
    }
    if (next.origin !== current.origin && req.headers?.authorization !== undefined) {
      const { authorization: _auth, ...rest } = req.headers;
      req = { ...req, headers: rest };
    }
    current = next;
  }
}
