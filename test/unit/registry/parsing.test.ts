import { describe, expect, it } from "vitest";
import { hostOfServerUrl, registryHostArg } from "../../../src/registry/host-arg.js";
import { parsePlatform, pickPlatform } from "../../../src/registry/platform.js";
import { registryBaseUrl, usesPlainHttp } from "../../../src/registry/transport.js";
import { parseChallenge } from "../../../src/registry/www-authenticate.js";

describe("parseChallenge", () => {
  it("reads a Bearer challenge with quoted params", () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"',
      ),
    ).toEqual({
      scheme: "bearer",
      params: {
        realm: "https://auth.example.com/token",
        service: "registry.example.com",
        scope: "repository:a/b:pull,push",
      },
    });
  });
  it("reads Basic, unquoted values and escapes", () => {
    expect(parseChallenge('Basic realm="a \\"b\\"", charset=UTF-8')).toEqual({
      scheme: "basic",
      params: { realm: 'a "b"', charset: "UTF-8" },
    });
    expect(parseChallenge(null)).toBeUndefined();
    expect(parseChallenge("")).toBeUndefined();
  });
});

describe("transport", () => {
  it("uses plain HTTP only for loopback and --insecure-registry hosts", () => {
    expect(usesPlainHttp("localhost:5000")).toBe(true);
    expect(usesPlainHttp("127.0.0.1:5000")).toBe(true);
    expect(usesPlainHttp("[::1]:5000")).toBe(true);
    expect(usesPlainHttp("registry.lan:5000")).toBe(false);
    expect(usesPlainHttp("registry.lan:5000", ["registry.lan:5000"])).toBe(true);
    expect(registryBaseUrl("docker.io")).toBe("https://registry-1.docker.io");
    expect(registryBaseUrl("ghcr.io")).toBe("https://ghcr.io");
  });
});

describe("platforms", () => {
  const manifests = [
    {
      mediaType: "m",
      digest: "sha256:1",
      size: 1,
      platform: { os: "linux", architecture: "arm", variant: "v7" },
    },
    { mediaType: "m", digest: "sha256:2", size: 1, platform: { os: "linux", architecture: "arm64" } },
    { mediaType: "m", digest: "sha256:3", size: 1, platform: { os: "linux", architecture: "amd64" } },
  ];
  it("picks by os/arch/variant", () => {
    expect(pickPlatform(manifests, parsePlatform("linux/amd64"))?.digest).toBe("sha256:3");
    expect(pickPlatform(manifests, parsePlatform("linux/arm64/v8"))?.digest).toBe("sha256:2");
    expect(pickPlatform(manifests, parsePlatform("linux/arm/v7"))?.digest).toBe("sha256:1");
    expect(pickPlatform(manifests, parsePlatform("linux/arm/v6"))).toBeUndefined();
    expect(pickPlatform(manifests, parsePlatform("windows/amd64"))).toBeUndefined();
  });
  it("rejects malformed platforms", () => {
    expect(() => parsePlatform("linux")).toThrow('platform "linux": expected OS/ARCH[/VARIANT]');
    expect(() => parsePlatform("a/b/c/d")).toThrow("expected OS/ARCH[/VARIANT]");
  });
});

describe("registry host arguments", () => {
  it("normalizes server URLs the way config.json keys them", () => {
    expect(hostOfServerUrl("https://index.docker.io/v1/")).toBe("docker.io");
    expect(hostOfServerUrl("http://127.0.0.1:5000")).toBe("127.0.0.1:5000");
    expect(registryHostArg("registry.example.com")).toBe("registry.example.com");
    expect(() => registryHostArg("bad host")).toThrow('invalid registry host "bad host"');
  });
});
