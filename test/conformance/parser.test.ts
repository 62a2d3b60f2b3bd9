import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseDockerfile } from "../../builder/dockerfile/parser.js";
import { renderNode } from "../../builder/dockerfile/render.js";
import { DockerfileError } from "../../src/errors.js";
import { dockerfileData } from "./paths.js";

const parserDir = path.join(dockerfileData, "parser");
const caseNames = (dir: string) => readdirSync(path.join(parserDir, dir)).sort();
const readDockerfile = (dir: string) => readFileSync(path.join(parserDir, dir, "Dockerfile"), "utf8");

describe("parser testfiles", () => {
  const cases = caseNames("testfiles");
  it("has all 33 cases", () => expect(cases).toHaveLength(33));

  it.each(cases)("%s", (name) => {
    const result = parseDockerfile(readDockerfile(path.join("testfiles", name)));
    const rendered = result.nodes.map((n) => `${renderNode(n)}\n`).join("");
    expect(rendered).toBe(readFileSync(path.join(parserDir, "testfiles", name, "result"), "utf8"));
  });
});

describe("parser testfiles-negative", () => {
  const cases = caseNames("testfiles-negative");
  it("has all 4 cases", () => expect(cases).toHaveLength(4));

  it.each(cases)("%s", (name) => {
    expect(() => parseDockerfile(readDockerfile(path.join("testfiles-negative", name)))).toThrow(
      DockerfileError,
    );
  });
});

describe("parser testfile-line", () => {
  it("gives the start and end line of each instruction", () => {
    const result = parseDockerfile(readDockerfile("testfile-line"));
    expect(result.nodes.map((n) => [n.location.startLine, n.location.endLine])).toEqual([
      [5, 5],
      [11, 12],
      [17, 31],
    ]);
  });
});
