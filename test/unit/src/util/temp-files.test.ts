import { mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sweepTemps, sweepTempsBeside, tempPathBeside, tempPathIn } from "../../../../src/util/temp-files.js";
import { tempDir } from "../../../helpers/tsbuild.js";

/** A pid that no process has (beyond pid_max). */
const DEAD = 999_999_999;

describe("temp files", () => {
  let dir: { path: string; cleanup: () => void };
  beforeEach(() => (dir = tempDir("temps")));
  afterEach(() => dir.cleanup());
  const touch = (name: string) => writeFileSync(join(dir.path, name), "x");

  it("names temps with the writer's pid, beside a file or in a dir", () => {
    expect(tempPathBeside("/a/out.tar")).toMatch(
      new RegExp(`^/a/out\\.tar\\.tmp-${process.pid}-[0-9a-f]{12}$`),
    );
    expect(tempPathIn("/a")).toMatch(new RegExp(`^/a/\\.tmp-${process.pid}-[0-9a-f]{12}$`));
  });

  it("removes a dead writer's temps, keeps a live writer's and every other file", () => {
    touch(`.tmp-${DEAD}-00aa`);
    touch(`.tmp-${process.pid}-00bb`);
    touch(`.tmp-1-00cc`); // pid 1 is alive
    touch("record.json");
    touch(".tmp-notours");
    mkdirSync(join(dir.path, `.tmp-${DEAD}-00dd`));
    writeFileSync(join(dir.path, `.tmp-${DEAD}-00dd`, "inner"), "x");
    expect(sweepTemps(dir.path).sort()).toEqual([`.tmp-${DEAD}-00aa`, `.tmp-${DEAD}-00dd`]);
    expect(readdirSync(dir.path).sort()).toEqual(
      [`.tmp-${process.pid}-00bb`, ".tmp-1-00cc", ".tmp-notours", "record.json"].sort(),
    );
  });

  it("removes a legacy temp (no pid in its name) only once it is a day old", () => {
    touch(".tmp-0123456789ab");
    touch(".tmp-ba9876543210");
    const old = new Date(Date.now() - 25 * 3600 * 1000);
    utimesSync(join(dir.path, ".tmp-ba9876543210"), old, old);
    expect(sweepTemps(dir.path)).toEqual([".tmp-ba9876543210"]);
  });

  it("sweeps beside a file only that file's temps; without a prefix, any file's", () => {
    touch(`out.tar.tmp-${DEAD}-01`);
    touch(`other.tar.tmp-${DEAD}-02`);
    expect(sweepTempsBeside(join(dir.path, "out.tar"))).toEqual([`out.tar.tmp-${DEAD}-01`]);
    expect(sweepTemps(dir.path)).toEqual([`other.tar.tmp-${DEAD}-02`]);
  });

  it("has nothing to sweep in a missing dir", () => {
    expect(sweepTemps(join(dir.path, "nope"))).toEqual([]);
  });
});
