// `--build-context NAME=…` (issue 11): a directory or docker-image://REF works for FROM, COPY --from
// and RUN --mount from=; the kinds tsbuild does not take are refused before anything runs, naming the
// flag (they used to be accepted, then a COPY failed with `stat /`).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir, tsbuild } from "../../helpers/tsbuild.js";
import { BASE_STAGE, BUSYBOX } from "../cache/helpers.js";
import { unpack } from "./helpers.js";

describe("--build-context", () => {
  const store = tempDir("contexts-store");
  const work = tempDir("contexts-work");
  const ctx = join(work.path, "ctx");
  const build = (dockerfile: string, args: string[]) => {
    writeFileSync(join(ctx, "Dockerfile"), dockerfile);
    return tsbuild(["build", "--progress", "plain", ...args, ctx], { root: store.path });
  };

  beforeAll(() => {
    mkdirSync(ctx, { recursive: true });
    // The image the docker-image:// contexts name: only in the store (a pull would fail: no network).
    const r = build(`${BASE_STAGE}\nFROM base\nRUN echo from-image > /marker\n`, [
      ...BUSYBOX,
      "-t",
      "localhost/ctx-base:1",
    ]);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => {
    store.cleanup();
    work.cleanup();
  });

  it("docker-image://REF stands for that image in FROM, COPY --from and RUN --mount from=", () => {
    const archive = join(work.path, "img.tar");
    const r = build(
      [
        "FROM base",
        "COPY --from=tools /marker /copied",
        "RUN --mount=from=tools,target=/t cat /t/marker > /mounted",
        "",
      ].join("\n"),
      [
        "--build-context",
        "base=docker-image://localhost/ctx-base:1",
        "--build-context",
        "tools=docker-image://localhost/ctx-base:1",
        "-t",
        "ctx-user:1",
        "-o",
        `type=oci,dest=${archive}`,
      ],
    );
    expect(r.code, r.stderr).toBe(0);
    const rootfs = unpack(archive, work.path, "ctx-user");
    for (const f of ["marker", "copied", "mounted"])
      expect(readFileSync(join(rootfs, f), "utf8")).toBe("from-image\n");
  });

  it.each([
    ["oci-layout:///tmp/layout@sha256:abc", "oci-layout:// contexts are not supported yet"],
    ["https://github.com/moby/buildkit.git", "git and HTTP URL contexts are not supported"],
    ["git@github.com:moby/buildkit.git", "git and HTTP URL contexts are not supported"],
    ["s3://bucket/x", "unknown context kind"],
    ["docker-image://Not A Ref", "invalid reference format"],
  ])("%s is refused before the build, naming the flag", (value, message) => {
    const r = build(`${BASE_STAGE}\nRUN echo never\n`, [...BUSYBOX, "--build-context", `x=${value}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--build-context x=${value}: ${message}`);
    expect(r.stderr).not.toContain("#1");
  });

  it("a directory that does not exist is refused, naming it", () => {
    const r = build("FROM scratch\nCOPY --from=gone /x /x\n", ["--build-context", "gone=./no/such/dir"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--build-context gone=\.\/no\/such\/dir: \/.*no\/such\/dir: no such directory/);
  });

  it("FROM a directory context is an error at its line, never a pull of an image of that name", () => {
    const r = build("FROM scratch AS s\nFROM files\n", ["--build-context", `files=${ctx}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Dockerfile:2");
    expect(r.stderr).toContain("FROM files: that build context is a directory");
    expect(r.stderr).not.toContain("pulling");
  });
});
