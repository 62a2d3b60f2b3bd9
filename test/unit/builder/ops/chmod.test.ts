import { describe, expect, it } from "vitest";
import { parseChmod } from "../../../../builder/ops/chmod.js";

const apply = (spec: string, mode: number, isDir = false) => parseChmod(spec)(mode, isDir);

describe("parseChmod", () => {
  it("sets octal modes outright, special bits included", () => {
    expect(apply("755", 0o600)).toBe(0o755);
    expect(apply("0644", 0o777)).toBe(0o644);
    expect(apply("4755", 0o644)).toBe(0o4755);
    expect(apply("00755", 0o600)).toBe(0o755);
  });

  it("adds, removes and sets per class", () => {
    expect(apply("u+x", 0o644)).toBe(0o744);
    expect(apply("go-w", 0o666)).toBe(0o644);
    expect(apply("a=r,u+w", 0o777)).toBe(0o644);
    expect(apply("+x", 0o644)).toBe(0o755);
    expect(apply("o=", 0o777)).toBe(0o770);
    expect(apply("u=rwx,g=rx,o=", 0o000)).toBe(0o750);
  });

  it("gives X only to directories and already executable files", () => {
    expect(apply("a+X", 0o644, false)).toBe(0o644);
    expect(apply("a+X", 0o744, false)).toBe(0o755);
    expect(apply("a+X", 0o644, true)).toBe(0o755);
  });

  it("copies one class's bits to others and handles setuid, setgid and sticky", () => {
    expect(apply("g=u", 0o640)).toBe(0o660);
    expect(apply("u+s", 0o755)).toBe(0o4755);
    expect(apply("g+s", 0o755)).toBe(0o2755);
    expect(apply("+t", 0o777, true)).toBe(0o1777);
    expect(apply("u-s", 0o4755)).toBe(0o755);
  });

  it("applies clauses in order, each seeing the previous result", () => {
    expect(apply("a-x,u+x", 0o755)).toBe(0o744);
    expect(apply("u+x,a+X", 0o644)).toBe(0o755);
  });

  it("rejects bad specs, naming them", () => {
    for (const bad of ["", "u+y", "x+r", "u+x,", "8", "17777", "rwx", "u+rwx,g"]) {
      expect(() => parseChmod(bad), bad).toThrow(`invalid --chmod=${bad}`);
    }
  });
});
