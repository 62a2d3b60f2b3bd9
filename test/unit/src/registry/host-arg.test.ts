import { describe, expect, it } from "vitest";
import { hostOfServerUrl, registryHostArg } from "../../../../src/registry/host-arg.js";

describe("registry host arguments", () => {
  it("normalizes server URLs the way config.json keys them", () => {
    expect(hostOfServerUrl("https://index.docker.io/v1/")).toBe("docker.io");
    expect(hostOfServerUrl("http://127.0.0.1:5000")).toBe("127.0.0.1:5000");
    expect(registryHostArg("registry.example.com")).toBe("registry.example.com");
    expect(() => registryHostArg("bad host")).toThrow('invalid registry host "bad host"');
  });
});
