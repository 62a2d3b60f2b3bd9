import { describe, expect, it } from "vitest";
import { type Candidate, recordsToKeep } from "../../../../../builder/cache/prune/select.js";

const NOW = Date.parse("2024-01-10T00:00:00Z");
const c = (key: string, lastUsed: string, holds: [string, number][], intact = true): Candidate => ({
  key,
  lastUsed,
  intact,
  holds: new Map(holds),
});
const cands = [
  c("old", "2024-01-01T00:00:00Z", [
    ["s1", 100],
    ["b1", 10],
  ]),
  c("mid", "2024-01-09T00:00:00Z", [
    ["s1", 100],
    ["s2", 50],
  ]),
  c("new", "2024-01-09T23:00:00Z", [["s3", 30]]),
  c("broken", "2024-01-09T23:30:00Z", [], false),
];

describe("recordsToKeep", () => {
  it("keeps every intact record without a policy and drops broken ones", () => {
    expect([...recordsToKeep(cands, {}, NOW)].sort()).toEqual(["mid", "new", "old"]);
  });
  it("--all keeps nothing", () => {
    expect(recordsToKeep(cands, { all: true }, NOW).size).toBe(0);
  });
  it("until drops records unused for longer than the duration", () => {
    expect([...recordsToKeep(cands, { unusedForMs: 2 * 86_400_000 }, NOW)].sort()).toEqual(["mid", "new"]);
  });
  it("keep-storage keeps the most recent records that fit, shared resources counted once", () => {
    // new (30) + mid (150) = 180; old adds only b1 (10) since s1 is counted: 190.
    expect([...recordsToKeep(cands, { keepStorage: 190 }, NOW)].sort()).toEqual(["mid", "new", "old"]);
    expect([...recordsToKeep(cands, { keepStorage: 189 }, NOW)].sort()).toEqual(["mid", "new"]);
    expect([...recordsToKeep(cands, { keepStorage: 100 }, NOW)]).toEqual(["new"]);
  });
  it("counts what tagged images pin first", () => {
    const pinned = new Map([
      ["s3", 30],
      ["img", 1000],
    ]);
    expect([...recordsToKeep(cands, { keepStorage: 1030 }, NOW, pinned)]).toEqual(["new"]);
    expect(recordsToKeep(cands, { keepStorage: 1029 }, NOW, pinned).size).toBe(0);
  });
});
