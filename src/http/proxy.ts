// HTTP(S)_PROXY and NO_PROXY from the environment, with Go's net/http semantics (golang.org/x/net/
// http/httpproxy), which the registry tools users compare tsbuild with (docker, containerd, skopeo)
// share: HTTPS_PROXY for https URLs, HTTP_PROXY for http ones (upper case first, then lower case);
// NO_PROXY a comma list of host names (matching the name and its subdomains; a leading "." or "*."
// too), IP addresses, CIDR blocks, each with an optional port, or "*" for all; localhost and
// loopback addresses are never proxied. An http URL goes to the proxy as an absolute-form request;
// an https one through a CONNECT tunnel, TLS end to end (src/http/client.ts).
import { BlockList, isIP } from "node:net";
import { TsbuildError } from "../errors.js";

export interface ProxyEnv {
  [name: string]: string | undefined;
}

/** The first non-empty of NAME and name (an empty variable counts as unset, as in Go). */
function envValue(env: ProxyEnv, name: string): string | undefined {
  for (const n of [name, name.toLowerCase()]) {
    const v = env[n]?.trim();
    if (v) return v;
  }
  return undefined;
}

/** The proxy URL for `url`, or undefined for a direct connection. */
export function proxyFor(url: URL, env: ProxyEnv = process.env): URL | undefined {
  const raw = envValue(env, url.protocol === "https:" ? "HTTPS_PROXY" : "HTTP_PROXY");
  if (raw === undefined) return undefined;
  const host = hostOf(url);
  if (host === "localhost" || isLoopback(host)) return undefined;
  if (excluded(url, host, envValue(env, "NO_PROXY"))) return undefined;
  return parseProxyUrl(raw);
}

/** A proxy given as "host:port" means http://host:port, as in Go. */
function parseProxyUrl(raw: string): URL {
  try {
    const proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
    if (proxy.protocol !== "http:")
      throw new TsbuildError(`proxy ${raw}: only http:// proxies are supported (got ${proxy.protocol})`);
    return proxy;
  } catch (err) {
    if (err instanceof TsbuildError) throw err;
    throw new TsbuildError(`proxy ${raw}: not a URL`, { cause: err });
  }
}

/** The URL's host name, brackets of an IPv6 literal removed, lower case. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
}

function isLoopback(host: string): boolean {
  if (isIP(host) === 4) return host.startsWith("127.");
  return isIP(host) === 6 && (host === "::1" || host === "0:0:0:0:0:0:0:1");
}

function defaultPort(url: URL): string {
  return url.port || (url.protocol === "https:" ? "443" : "80");
}

/** Whether NO_PROXY sends `url` direct. */
function excluded(url: URL, host: string, noProxy: string | undefined): boolean {
  if (noProxy === undefined) return false;
  for (const item of noProxy.split(",").map((s) => s.trim().toLowerCase())) {
    if (item === "") continue;
    if (item === "*") return true;
    if (entryMatches(item, url, host)) return true;
  }
  return false;
}

function entryMatches(item: string, url: URL, host: string): boolean {
  const cidr = item.includes("/") ? item.split("/") : undefined;
  if (cidr) return cidrMatches(cidr[0]!, Number(cidr[1]), host);
  const { name, port } = splitHostPort(item);
  if (port !== undefined && port !== defaultPort(url)) return false;
  if (isIP(name)) return name === host;
  const domain = name.replace(/^\*?\./, "");
  return host === domain || host.endsWith(`.${domain}`);
}

function cidrMatches(network: string, prefix: number, host: string): boolean {
  const family = isIP(network);
  if (family === 0 || isIP(host) !== family || !Number.isInteger(prefix)) return false;
  const list = new BlockList();
  try {
    list.addSubnet(network, prefix, family === 4 ? "ipv4" : "ipv6");
  } catch {
    return false;
  }
  return list.check(host, family === 4 ? "ipv4" : "ipv6");
}

/** "host:port", "[v6]:port", "v6" or "host". */
function splitHostPort(item: string): { name: string; port?: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(item);
  if (bracketed) return { name: bracketed[1]!, port: bracketed[2] };
  if (isIP(item) === 6) return { name: item };
  const m = /^(.*):(\d+)$/.exec(item);
  return m ? { name: m[1]!, port: m[2] } : { name: item };
}

/** The Proxy-Authorization header for a proxy URL with user info, else undefined. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username) return undefined;
  const user = decodeURIComponent(proxy.username);
  const pass = decodeURIComponent(proxy.password);
  return `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
}
