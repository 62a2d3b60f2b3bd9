// The plan phase alone: a pure function of the Dockerfile and the options (no store, no sandbox).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { countSteps, planBuild } from "../../../../builder/plan/plan.js";
import { DockerfileError, UsageError } from "../../../../src/errors.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tsbuild-plan-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function plan(dockerfile: string, extra: Partial<Parameters<typeof planBuild>[0]> = {}) {
  writeFileSync(join(dir, "Dockerfile"), dockerfile);
  return planBuild({ contextDir: dir, buildArgs: {}, ...extra });
}

describe("planBuild", () => {
  it("resolves each stage's base once: scratch, an earlier stage (by name or index), or an image", () => {
    const p = plan(
      [
        "FROM scratch AS root",
        "FROM root AS named",
        "FROM 0 AS indexed",
        "FROM busybox:1 AS busybox", // the image: only an earlier stage counts
        "FROM later", // a later stage's name is an image too
        "FROM scratch AS later",
        "",
      ].join("\n"),
    );
    expect(p.stages.map((s) => s.base)).toEqual([
      { kind: "scratch" },
      { kind: "stage", index: 0 },
      { kind: "stage", index: 0 },
      { kind: "image", ref: "busybox:1" },
      { kind: "image", ref: "later" },
      { kind: "scratch" },
    ]);
    expect(p.target).toBe(5);
    expect([...p.needed]).toEqual([5]);
  });

  it("finds the stages the target needs through FROM, COPY --from and RUN --mount from", () => {
    const p = plan(
      [
        "FROM scratch AS a",
        "FROM scratch AS unused",
        "FROM a AS b",
        "FROM scratch AS c",
        "RUN --mount=type=bind,from=b,target=/b true",
        "COPY --from=a /x /x",
        "WORKDIR /w",
        "",
      ].join("\n"),
      { target: "c" },
    );
    expect([...p.needed].sort()).toEqual([0, 2, 3]);
    expect(countSteps(p)).toEqual({ layerSteps: 3, runSteps: 1 });
  });

  it("gives build args over the platform args, and global ARGs their defaults", () => {
    const p = plan("ARG A=1\nARG B=${A}2\nARG TARGETARCH\nFROM scratch\n", { buildArgs: { A: "x" } });
    expect(p.buildArgs.TARGETARCH).toBe("amd64");
    expect(p.buildArgs.A).toBe("x");
    expect([...p.globalArgs]).toEqual([
      ["A", "x"],
      ["B", "x2"],
      ["TARGETARCH", "amd64"],
    ]);
  });

  it("refuses what it cannot plan, before anything runs", () => {
    expect(() => plan("FROM scratch\n", { target: "nope" })).toThrow(UsageError);
    expect(() => plan("FROM scratch\n", { noCacheFilter: ["nope"] })).toThrow(
      "--no-cache-filter nope: no stage of that name",
    );
    expect(() => plan("RUN true\n")).toThrow(DockerfileError);
    expect(() => planBuild({ contextDir: join(dir, "missing"), buildArgs: {} })).toThrow(
      /build context .*missing: no such directory/,
    );
    expect(() => planBuild({ contextDir: dir, dockerfile: join(dir, "none"), buildArgs: {} })).toThrow(
      /Dockerfile .*none: no such file/,
    );
  });

  it("keeps the cause of what it wraps", () => {
    try {
      planBuild({ contextDir: dir, dockerfile: join(dir, "none"), buildArgs: {} });
      expect.unreachable();
    } catch (err) {
      expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe("ENOENT");
    }
  });
});
