import { describe, expect, it } from "vitest";
import { resolveStage, stageDependencies } from "../../../../builder/dockerfile/commands.js";
import { UsageError } from "../../../../src/errors.js";
import { errorOf, stages } from "./helpers.js";

const text = [
  "FROM alpine AS base",
  "FROM base AS build",
  "COPY --from=base /a /b",
  "FROM golang AS tools",
  "RUN --mount=type=bind,from=build,target=/src --mount=type=cache,target=/c make",
  "FROM scratch",
  "COPY --from=tools /x /x",
  "COPY --from=0 /y /y",
  "COPY --from=nginx:latest /etc/nginx /etc/nginx",
  "COPY --from=$STAGE /z /z",
  "",
].join("\n");

describe("stage dependencies", () => {
  it("follows FROM <stage>, COPY --from (name or index) and RUN --mount from", () => {
    const deps = stageDependencies(stages(text));
    expect([...deps.entries()].map(([k, v]) => [k, [...v].sort()])).toEqual([
      [0, []],
      [1, [0]],
      [2, [1]],
      [3, [0, 2]],
    ]);
  });

  it("treats FROM x AS x as the image x", () => {
    expect(stageDependencies(stages("FROM ubuntu AS ubuntu\nFROM ubuntu\n")).get(1)).toEqual(new Set([0]));
    expect(stageDependencies(stages("FROM ubuntu AS ubuntu\n")).get(0)).toEqual(new Set());
  });
});

describe("target resolution", () => {
  const set = stages(text);
  it("defaults to the last stage", () => expect(resolveStage(set)).toBe(3));
  it("finds names case-insensitively and indexes", () => {
    expect(resolveStage(set, "build")).toBe(1);
    expect(resolveStage(set, "TOOLS")).toBe(2);
    expect(resolveStage(set, "0")).toBe(0);
  });
  it("names an unknown target", () => {
    expect(() => resolveStage(set, "nope")).toThrow(UsageError);
    expect(errorOf(() => resolveStage(set, "nope"))).toBe(
      'target stage "nope" could not be found (stages: base, build, tools)',
    );
    expect(errorOf(() => resolveStage(set, "9"))).toMatch(/^target stage "9" could not be found/);
  });
});
