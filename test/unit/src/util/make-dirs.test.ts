import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../../../../src/errors.js";
import { makeDirs } from "../../../../src/util/make-dirs.js";

const dir = mkdtempSync(join(tmpdir(), "tsbuild-mkdirs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("makeDirs", () => {
  it("makes missing parents, and accepts an existing directory", () => {
    makeDirs(join(dir, "a", "b", "c"), "store");
    expect(statSync(join(dir, "a", "b", "c")).isDirectory()).toBe(true);
    makeDirs(join(dir, "a", "b", "c"), "store");
  });

  it("fails at once, naming the component, where recursive mkdirSync looped or said ENOTDIR", () => {
    writeFileSync(join(dir, "file"), "");
    expect(() => makeDirs(join(dir, "file"), "store X")).toThrow(
      `store X: ${join(dir, "file")} is not a directory`,
    );
    expect(() => makeDirs(join(dir, "file", "sub"), "store X")).toThrow(
      `store X: cannot use ${join(dir, "file", "sub")}: a parent is not a directory`,
    );
    // Node 20's mkdirSync(recursive) spins at 100 % CPU on this one.
    expect(() => makeDirs("/proc/x", "store /proc/x")).toThrow(
      "store /proc/x: cannot create /proc/x: its parent does not take new directories",
    );
    expect(() => makeDirs("/proc/x", "s")).toThrow(UsageError);
  });
});
