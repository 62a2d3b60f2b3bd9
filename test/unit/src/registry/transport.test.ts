import { describe, expect, it } from "vitest";
import { registryBaseUrl, usesPlainHttp } from "../../../../src/registry/transport.js";

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
