import { describe, expect, it } from "vitest";
import { familiarName, normalizeImageName, parseReference } from "../../../../src/oci/reference.js";

const digest = `sha256:${"ab".repeat(32)}`;

describe("normalizeImageName", () => {
  it.each([
    ["hello", "docker.io/library/hello:latest"],
    ["hello:1", "docker.io/library/hello:1"],
    ["library/hello", "docker.io/library/hello:latest"],
    ["me/hello", "docker.io/me/hello:latest"],
    ["docker.io/busybox", "docker.io/library/busybox:latest"],
    ["index.docker.io/library/busybox:1", "docker.io/library/busybox:1"],
    ["docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36"],
    ["localhost:5000/app", "localhost:5000/app:latest"],
    ["localhost:5000/app:v2", "localhost:5000/app:v2"],
    ["localhost/app", "localhost/app:latest"],
    ["registry.example.com/a/b/c:1.0-rc_1", "registry.example.com/a/b/c:1.0-rc_1"],
    [`app@${digest}`, `docker.io/library/app@${digest}`],
    [`app:1@${digest}`, `docker.io/library/app:1@${digest}`],
    ["a__b.c-d---e:_x", "docker.io/library/a__b.c-d---e:_x"],
    ["127.0.0.1:5000/x", "127.0.0.1:5000/x:latest"],
    ["[::1]:5000/x:y", "[::1]:5000/x:y"],
    [`x:${"t".repeat(128)}`, `docker.io/library/x:${"t".repeat(128)}`],
  ])("%s -> %s", (name, want) => {
    expect(normalizeImageName(name)).toBe(want);
  });

  it.each([
    "Foo",
    "",
    "hello:",
    ":1",
    "hello::1",
    "a/B",
    "-a",
    "a-",
    "a..b",
    "a___b",
    "hello:-1",
    `x:${"t".repeat(129)}`,
    "hello@sha256:abc",
    "a//b",
    "/a",
    "a/",
    "host:port/x",
    "-host.com/x",
    "a b",
    `${"a".repeat(256)}`,
  ])("rejects %j", (name) => {
    expect(() => normalizeImageName(name)).toThrow(`invalid reference format: ${JSON.stringify(name)}`);
  });
});

describe("parseReference", () => {
  it("splits registry, repository, tag and digest", () => {
    expect(parseReference("hello")).toEqual({ repository: "hello" });
    expect(parseReference("library/hello:1")).toEqual({ repository: "library/hello", tag: "1" });
    expect(parseReference(`localhost:5000/a/b:v2@${digest}`)).toEqual({
      registry: "localhost:5000",
      repository: "a/b",
      tag: "v2",
      digest,
    });
    expect(parseReference("localhost/app")).toEqual({ registry: "localhost", repository: "app" });
    expect(parseReference("docker.io/library/busybox:1.36")).toEqual({
      registry: "docker.io",
      repository: "library/busybox",
      tag: "1.36",
    });
  });
});

describe("familiarName", () => {
  it.each([
    ["docker.io/library/hello:1", "hello:1"],
    ["docker.io/me/hello:1", "me/hello:1"],
    ["docker.io/library/a/b:1", "library/a/b:1"],
    [`docker.io/library/app@${digest}`, `app@${digest}`],
    ["localhost:5000/app:latest", "localhost:5000/app:latest"],
  ])("%s -> %s", (full, want) => {
    expect(familiarName(full)).toBe(want);
    expect(normalizeImageName(want)).toBe(full);
  });
});
