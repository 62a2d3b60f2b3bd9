import { describe, expect, it } from "vitest";
import { parseDockerfile } from "../../../../builder/dockerfile/parser.js";
import { errorOf, only } from "./helpers.js";

describe("heredocs", () => {
  it("reads a RUN heredoc body and keeps the instruction's end line", () => {
    const text = "FROM scratch\nRUN <<EOF\necho $A\n  indented\nEOF\nRUN after\n";
    const run = only(text.slice("FROM scratch\n".length), "RUN");
    expect(run.heredocs).toEqual([{ name: "EOF", content: "echo $A\n  indented\n", expand: true }]);
    expect(run.args).toEqual(["<<EOF"]);
    const nodes = parseDockerfile(text).nodes;
    expect(nodes.map((n) => [n.keyword, n.location.startLine, n.location.endLine])).toEqual([
      ["from", 1, 1],
      ["run", 2, 5],
      ["run", 6, 6],
    ]);
  });

  it("<<- strips leading tabs from the body and the terminator", () => {
    const run = only("RUN <<-EOT\n\t\techo a\n\t  b\n\tEOT\n", "RUN");
    expect(run.heredocs[0]).toEqual({ name: "EOT", content: "echo a\n  b\n", expand: true });
  });

  it("quoted delimiters disable expansion", () => {
    expect(only("RUN <<'EOF'\n$X\nEOF\n", "RUN").heredocs[0]).toMatchObject({ name: "EOF", expand: false });
    expect(only('RUN <<"EOF"\n$X\nEOF\n', "RUN").heredocs[0]).toMatchObject({ name: "EOF", expand: false });
    expect(only('RUN <<E"O"F\n$X\nEOF\n', "RUN").heredocs[0]).toMatchObject({ name: "EOF", expand: false });
  });

  it("several heredocs on one line, the fd form, and COPY heredoc sources", () => {
    const run = only("RUN python3 3<<A <<B\nprint(1)\nA\nsecond\nB\n", "RUN");
    expect(run.heredocs).toEqual([
      { name: "A", content: "print(1)\n", expand: true, fd: 3 },
      { name: "B", content: "second\n", expand: true },
    ]);
    const copy = only("COPY <<one <<two a.txt /dst/\n1\none\n2\ntwo\n", "COPY");
    expect(copy.sources).toEqual(["a.txt"]);
    expect(copy.dest).toBe("/dst/");
    expect(copy.heredocs.map((h) => [h.name, h.content])).toEqual([
      ["one", "1\n"],
      ["two", "2\n"],
    ]);
  });

  it("an empty body is the empty string; CRLF bodies lose the CR", () => {
    expect(only("RUN <<EOF\nEOF\n", "RUN").heredocs[0]!.content).toBe("");
    expect(only("RUN <<EOF\r\na\r\nEOF\r\n", "RUN").heredocs[0]!.content).toBe("a\n");
  });

  it("is not a heredoc in exec form or for other instructions", () => {
    expect(only('RUN ["cat", "<<EOF"]', "RUN").heredocs).toEqual([]);
    expect(parseDockerfile("FROM a\nENV X=<<EOF\n").nodes).toHaveLength(2);
  });

  it("an unterminated heredoc names its line", () => {
    expect(errorOf(() => parseDockerfile("FROM a\nRUN <<EOF\necho\n"))).toMatch(
      /^Dockerfile:2:1: unterminated heredoc <<EOF/,
    );
  });
});
