import { describe, expect, it } from "vitest";
import { proxyAuthorization, proxyFor } from "../../../../src/http/proxy.js";

const via = (url: string, env: Record<string, string>) => proxyFor(new URL(url), env)?.href;

describe("proxyFor (Go's httpproxy semantics)", () => {
  const env = { HTTPS_PROXY: "http://secure:3128", HTTP_PROXY: "plain:8080" };

  it("picks the proxy by scheme; a bare host:port is an http proxy", () => {
    expect(via("https://r.example/v2/", env)).toBe("http://secure:3128/");
    expect(via("http://r.example/v2/", env)).toBe("http://plain:8080/");
    expect(via("https://r.example/", { HTTP_PROXY: "plain:8080" })).toBeUndefined();
  });

  it("upper case wins; an empty variable counts as unset", () => {
    expect(via("http://a.example/", { HTTP_PROXY: "up:1", http_proxy: "low:2" })).toBe("http://up:1/");
    expect(via("http://a.example/", { HTTP_PROXY: "", http_proxy: "low:2" })).toBe("http://low:2/");
  });

  it("never proxies localhost or loopback addresses", () => {
    for (const url of [
      "http://localhost:5000/",
      "http://127.0.0.1:5000/",
      "http://127.8.9.1/",
      "http://[::1]:5000/",
    ])
      expect(via(url, env)).toBeUndefined();
  });

  it.each([
    ["*", "http://any.example/", true],
    ["example.com", "http://example.com/", true],
    ["example.com", "http://a.b.example.com/", true],
    [".example.com", "http://example.com/", true],
    ["*.example.com", "http://x.example.com/", true],
    ["example.com", "http://notexample.com/", false],
    ["example.com:8080", "http://example.com:8080/", true],
    ["example.com:8080", "http://example.com/", false],
    ["10.0.0.0/8", "http://10.1.2.3/", true],
    ["10.0.0.0/8", "http://11.1.2.3/", false],
    ["192.168.1.5", "http://192.168.1.5:80/", true],
    ["fd00::/8", "http://[fd00::1]/", true],
    [" a.test , b.test ", "http://b.test/", true],
  ])("NO_PROXY=%s for %s: direct=%s", (noProxy, url, direct) => {
    expect(via(url, { ...env, NO_PROXY: noProxy }) === undefined).toBe(direct);
  });

  it("refuses a proxy URL it cannot use", () => {
    expect(() => via("http://a.example/", { HTTP_PROXY: "socks5://s:1080" })).toThrow(/only http:\/\//);
  });

  it("sends the proxy's user info as Basic credentials", () => {
    expect(proxyAuthorization(new URL("http://u%40x:p%3Aw@proxy:1"))).toBe(
      `Basic ${Buffer.from("u@x:p:w").toString("base64")}`,
    );
    expect(proxyAuthorization(new URL("http://proxy:1"))).toBeUndefined();
  });
});
