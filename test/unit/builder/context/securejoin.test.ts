import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveInRoot } from "../../../../builder/context/securejoin.js";
import { makeTree, tempDir } from "./fixtures.js";

let root: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir: root, cleanup } = tempDir("securejoin"));
  makeTree(root, {
    "etc/passwd": "root:x:0:0::/root:/bin/sh\n",
    "usr/lib/x": "x",
    "abs-etc": { symlink: "/etc" },
    "rel-etc": { symlink: "usr/../etc" },
    "up-and-out": { symlink: "../../../../etc" },
    "to-host-tmp": { symlink: "/tmp/../../.." },
    "usr/lib/back": { symlink: "../../etc/passwd" },
    "loop-a": { symlink: "loop-b" },
    "loop-b": { symlink: "loop-a" },
    dangling: { symlink: "/nowhere/file" },
  });
});
afterEach(() => cleanup());

describe("resolveInRoot", () => {
  it("joins plain paths, absolute or relative, to the root", () => {
    expect(resolveInRoot(root, "/usr/lib/x")).toBe(join(root, "usr/lib/x"));
    expect(resolveInRoot(root, "usr/lib/x")).toBe(join(root, "usr/lib/x"));
    expect(resolveInRoot(root, "/")).toBe(root);
  });

  it("follows absolute symlinks from the root, not from the host's /", () => {
    expect(resolveInRoot(root, "/abs-etc/passwd")).toBe(join(root, "etc/passwd"));
  });

  it("follows relative symlinks and links in the middle of a path", () => {
    expect(resolveInRoot(root, "rel-etc/passwd")).toBe(join(root, "etc/passwd"));
    expect(resolveInRoot(root, "/usr/lib/back")).toBe(join(root, "etc/passwd"));
  });

  it("clamps `..` chains at the root", () => {
    expect(resolveInRoot(root, "../../../../etc/passwd")).toBe(join(root, "etc/passwd"));
    expect(resolveInRoot(root, "/usr/../../../usr/lib")).toBe(join(root, "usr/lib"));
  });

  it("clamps symlinks that lead outside into the root", () => {
    expect(resolveInRoot(root, "/up-and-out/passwd")).toBe(join(root, "etc/passwd"));
    expect(resolveInRoot(root, "/to-host-tmp/etc")).toBe(join(root, "etc"));
  });

  it("applies `..` after a symlink to where the link led (physical, not lexical)", () => {
    // abs-etc -> /etc, so abs-etc/.. is the root, not the directory holding abs-etc.
    expect(resolveInRoot(root, "/abs-etc/../usr/lib/x")).toBe(join(root, "usr/lib/x"));
  });

  it("joins missing components lexically, also below a dangling link", () => {
    expect(resolveInRoot(root, "/new/dir/file")).toBe(join(root, "new/dir/file"));
    expect(resolveInRoot(root, "/dangling")).toBe(join(root, "nowhere/file"));
  });

  it("leaves a final symlink alone when asked", () => {
    expect(resolveInRoot(root, "/abs-etc", { followFinal: false })).toBe(join(root, "abs-etc"));
    expect(resolveInRoot(root, "/rel-etc/passwd", { followFinal: false })).toBe(join(root, "etc/passwd"));
  });

  it("refuses escapes in error mode, naming the path", () => {
    expect(() => resolveInRoot(root, "../x", { onEscape: "error", rootName: "build context" })).toThrow(
      "../x: path escapes the build context",
    );
    expect(() => resolveInRoot(root, "up-and-out/passwd", { onEscape: "error" })).toThrow(
      "up-and-out/passwd: path escapes the root",
    );
  });

  it("stops symlink loops with an error naming the path", () => {
    expect(() => resolveInRoot(root, "/loop-a/x")).toThrow("/loop-a/x: too many levels of symbolic links");
  });
});
