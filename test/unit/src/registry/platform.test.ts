import { describe, expect, it } from "vitest";
import { parsePlatform, pickPlatform } from "../../../../src/registry/platform.js";

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
