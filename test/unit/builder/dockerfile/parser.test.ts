import { describe, expect, it } from "vitest";
import { parseDockerfile } from "../../../../builder/dockerfile/parser.js";
import { DockerfileError } from "../../../../src/errors.js";
import { errorOf, stages } from "./helpers.js";

const err = (text: string) => errorOf(() => stages(text));

describe("parse errors", () => {
  it("repeated and invalid directives", () => {
    expect(errorOf(() => parseDockerfile("# escape=`\n# escape=\\\nFROM a\n"))).toBe(
      "Dockerfile:2:1: only one escape parser directive can be used",
    );
    expect(errorOf(() => parseDockerfile("# syntax=a\n# SYNTAX=b\nFROM a\n"))).toMatch(
      /^Dockerfile:2:1: only one syntax/,
    );
    expect(errorOf(() => parseDockerfile("# escape=x\nFROM a\n"))).toMatch(
      /^Dockerfile:1:1: invalid escape token 'x'/,
    );
  });

  it("reads directives, and only before anything else", () => {
    const r = parseDockerfile(
      "# syntax=docker/dockerfile:1\n# check = skip=all\n# escape=`\nFROM a\n# escape=\\\n",
    );
    expect(r.directives).toEqual({ syntax: "docker/dockerfile:1", check: "skip=all", escape: "`" });
  });

  it("empty files, ENV without value, nested JSON, bad ENV pairs", () => {
    expect(errorOf(() => parseDockerfile(""))).toBe("Dockerfile:1: file with no instructions");
    expect(errorOf(() => parseDockerfile("FROM a\nENV PATH\n", "app.Dockerfile"))).toBe(
      "app.Dockerfile:2:1: ENV must have two arguments",
    );
    expect(errorOf(() => parseDockerfile('FROM a\n  CMD ["a", 1]\n'))).toBe(
      "Dockerfile:2:3: JSON array arguments must be strings",
    );
    expect(errorOf(() => parseDockerfile("FROM a\nENV a=b c\n"))).toMatch(
      /^Dockerfile:2:1: Syntax error - can't find = in "c"/,
    );
  });

  it("errors carry the source lines for pretty()", () => {
    try {
      stages("FROM a\nRUNN x\n");
      throw new Error("no error");
    } catch (e) {
      expect(e).toBeInstanceOf(DockerfileError);
      expect((e as DockerfileError).exitCode).toBe(2);
      expect((e as DockerfileError).pretty()).toBe(
        "Dockerfile:2:1: unknown instruction: RUNN (did you mean RUN?)\n    2 | RUNN x\n      | ^",
      );
    }
  });
});

describe("semantic errors", () => {
  it("unknown instruction with a suggestion", () => {
    expect(err("FROM a\n\nRUNN make\n")).toBe(
      "Dockerfile:3:1: unknown instruction: RUNN (did you mean RUN?)",
    );
    expect(err("FROM a\ncopyy a b\n")).toBe(
      "Dockerfile:2:1: unknown instruction: copyy (did you mean COPY?)",
    );
    expect(err("FROM a\nFROBNICATE x\n")).toBe("Dockerfile:2:1: unknown instruction: FROBNICATE");
  });

  it("missing arguments", () => {
    expect(err("FROM a\nCOPY onlyone\n")).toMatch(/^Dockerfile:2:1: COPY requires at least two arguments/);
    expect(err("FROM a\nADD\n")).toMatch(/^Dockerfile:2:1: ADD requires at least two arguments/);
    expect(err("FROM a\nWORKDIR\n")).toBe("Dockerfile:2:1: WORKDIR requires exactly one argument");
    expect(err("FROM a\nEXPOSE\n")).toBe("Dockerfile:2:1: EXPOSE requires at least one argument");
    expect(err("FROM a\nSHELL sh -c\n")).toBe(
      "Dockerfile:2:1: SHELL requires the arguments to be in JSON form",
    );
    expect(err("FROM\n")).toBe(
      "Dockerfile:1:1: FROM requires either one or three arguments (FROM image [AS name])",
    );
    expect(err("FROM a AS\n")).toMatch(/^Dockerfile:1:1: FROM requires either one or three/);
    expect(err("FROM a\nONBUILD\n")).toBe("Dockerfile:2:1: ONBUILD requires at least one argument");
  });

  it("unknown and malformed flags point at the flag", () => {
    expect(err("FROM a\nCOPY --fro=b x y\n")).toBe(
      "Dockerfile:2:6: unknown flag: --fro (did you mean --from?)",
    );
    expect(err("FROM a\nRUN --foo=bar x\n")).toBe("Dockerfile:2:5: unknown flag: --foo");
    expect(err("FROM a\nCMD --doit x\n")).toBe("Dockerfile:2:5: unknown flag: --doit");
    expect(err("FROM a\nADD --from=x a b\n")).toBe("Dockerfile:2:5: unknown flag: --from");
    expect(err("FROM a\nCOPY --from a b\n")).toBe("Dockerfile:2:6: missing a value on flag: --from");
    expect(err("FROM a\nCOPY --link=maybe a b\n")).toBe(
      "Dockerfile:2:6: expecting boolean value for flag link, not: maybe",
    );
    expect(err("FROM a\nCOPY --from=x --from=y a b\n")).toBe(
      "Dockerfile:2:15: duplicate flag specified: --from",
    );
  });

  it("instructions before the first FROM", () => {
    expect(err("ARG A=1\nRUN x\nFROM a\n")).toBe(
      "Dockerfile:2:1: RUN is not allowed before the first FROM (only ARG is)",
    );
    expect(err("ARG A=1\n")).toBe("Dockerfile:1:1: no build stage: the Dockerfile has no FROM instruction");
  });

  it("stage names", () => {
    expect(err("FROM a AS one\nFROM b AS One\n")).toBe('Dockerfile:2:11: duplicate stage name "one"');
    expect(err("FROM a AS 1st\n")).toBe(
      'Dockerfile:1:11: invalid name for build stage: "1st", name can\'t start with a number or contain symbols',
    );
    expect(err("FROM a AS b@d\n")).toMatch(/^Dockerfile:1:11: invalid name for build stage/);
    expect(err("FROM ${NOPE}\n")).toBe("Dockerfile:1:1: base name (${NOPE}) should not be blank");
  });

  it("bad --chmod, --network, --mount and durations", () => {
    expect(err("FROM a\nCOPY --chmod=999 a b\n")).toBe(
      "Dockerfile:2:6: invalid --chmod=999: use an octal mode like 0755 or a symbolic one like u+x,g=r",
    );
    expect(err("FROM a\nCOPY --chmod=u+y a b\n")).toMatch(/^Dockerfile:2:6: invalid --chmod=u\+y/);
    expect(err("FROM a\nRUN --network=bridge x\n")).toBe(
      'Dockerfile:2:5: unsupported network mode "bridge" (expected default, none or host)',
    );
    expect(err("FROM a\nRUN --mount=type=nfs,target=/x x\n")).toBe(
      'Dockerfile:2:5: invalid --mount=type=nfs,target=/x: unsupported mount type "nfs"',
    );
    expect(err("FROM a\nRUN --mount=type=cache x\n")).toBe(
      "Dockerfile:2:5: invalid --mount=type=cache: --mount type=cache needs a target",
    );
    expect(err("FROM a\nRUN --mount=type=cache,target=/x,colour=red x\n")).toMatch(/unexpected key 'colour'/);
    expect(err("FROM a\nRUN --mount=type=cache,target=/x,sharing=some x\n")).toMatch(
      /unsupported sharing value "some"/,
    );
    expect(err("FROM a\nRUN --mount=type=cache,target=/x,mode=abc x\n")).toMatch(
      /invalid value for mode: "abc"/,
    );
    expect(err("FROM a\nHEALTHCHECK --interval=5 CMD x\n")).toBe(
      'Dockerfile:2:13: --interval: time: missing unit in duration "5"',
    );
    expect(err("FROM a\nHEALTHCHECK --timeout=10us CMD x\n")).toBe(
      "Dockerfile:2:13: --timeout=10us cannot be less than 1ms",
    );
    expect(err("FROM a\nHEALTHCHECK --retries=-1 CMD x\n")).toBe(
      "Dockerfile:2:13: --retries cannot be negative (-1)",
    );
    expect(err("FROM a\nHEALTHCHECK CONNECT x\n")).toBe(
      'Dockerfile:2:1: Unknown type "CONNECT" in HEALTHCHECK (try CMD)',
    );
    expect(err("FROM a\nHEALTHCHECK CMD\n")).toBe("Dockerfile:2:1: Missing command after HEALTHCHECK CMD");
    expect(err("FROM a\nHEALTHCHECK NONE x\n")).toBe("Dockerfile:2:1: HEALTHCHECK NONE takes no arguments");
  });

  it("ONBUILD triggers", () => {
    expect(err("FROM a\nONBUILD ONBUILD RUN x\n")).toBe(
      "Dockerfile:2:1: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
    );
    expect(err("FROM a\nONBUILD FROM b\n")).toBe("Dockerfile:2:1: FROM isn't allowed as an ONBUILD trigger");
    expect(err("FROM a\nONBUILD MAINTAINER me\n")).toBe(
      "Dockerfile:2:1: MAINTAINER isn't allowed as an ONBUILD trigger",
    );
    expect(err("FROM a\nONBUILD COPY x\n")).toMatch(/^Dockerfile:2:1: COPY requires at least two arguments/);
  });

  it("--from naming the stage itself or a later stage is circular", () => {
    expect(err("FROM a AS one\nCOPY --from=one x y\n")).toBe(
      "Dockerfile:2:1: circular dependency: --from=one refers to the stage itself; only earlier stages can be used",
    );
    expect(err("FROM a\nCOPY --from=later x y\nFROM b AS later\n")).toMatch(
      /^Dockerfile:2:1: circular dependency: --from=later refers to a later stage/,
    );
    expect(err("FROM a\nRUN --mount=from=1,target=/x x\nFROM b\n")).toMatch(
      /^Dockerfile:2:1: circular dependency: --from=1/,
    );
  });

  it("expansion errors in FROM", () => {
    expect(err("FROM ${X:?required}\n")).toBe(
      'Dockerfile:1:1: failed to process "${X:?required}": X: required',
    );
  });
});
