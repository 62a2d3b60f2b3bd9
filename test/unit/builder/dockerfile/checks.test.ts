import { describe, expect, it } from "vitest";
import { checkDockerfile } from "../../../../builder/dockerfile/checks.js";
import { parseDockerfile } from "../../../../builder/dockerfile/parser.js";

const codes = (text: string) =>
  checkDockerfile(parseDockerfile(text)).map((w) => [w.code, w.location?.startLine]);

describe("build checks", () => {
  it("flags shell-form CMD/ENTRYPOINT, casing, legacy ENV, MAINTAINER and repeated CMD", () => {
    const text = [
      "FROM a as Build",
      "MAINTAINER me",
      "ENV K v",
      "LABEL k=v",
      "CMD run me",
      'CMD ["ok"]',
      "ENTRYPOINT go",
      "FROM b AS c",
      'CMD ["x"]',
      "",
    ].join("\n");
    expect(codes(text)).toEqual([
      ["StageNameCasing", 1],
      ["FromAsCasing", 1],
      ["MaintainerDeprecated", 2],
      ["LegacyKeyValueFormat", 3],
      ["JSONArgsRecommended", 5],
      ["MultipleInstructionsDisallowed", 5],
      ["JSONArgsRecommended", 7],
    ]);
  });

  it("flags keywords that do not follow the majority casing", () => {
    expect(codes("FROM a\nrun x\nRUN y\n")).toEqual([["ConsistentInstructionCasing", 2]]);
  });

  it("honours # check=skip=", () => {
    expect(codes("# check=skip=JSONArgsRecommended\nFROM a\nCMD x\nENV a b\n")).toEqual([
      ["LegacyKeyValueFormat", 4],
    ]);
    expect(codes("# check=skip=all\nFROM a\nCMD x\n")).toEqual([]);
  });

  it("reports empty continuation lines from the parser", () => {
    const parse = parseDockerfile("FROM a\nRUN a \\\n\n  b\n");
    expect(parse.warnings).toEqual([
      {
        code: "NoEmptyContinuation",
        message: "Empty continuation line found in: RUN a   b",
        location: { file: "Dockerfile", startLine: 4, endLine: 4 },
      },
    ]);
  });
});
