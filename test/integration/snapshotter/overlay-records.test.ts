// The overlay snapshotter's on-disk records (snapshotter/metadata.ts): one file per snapshot, what a
// crash can leave, and the migration from the single metadata.json of older stores.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openOverlaySnapshotter } from "../../../snapshotter/overlay.js";
import type { Snapshotter } from "../../../snapshotter/types.js";
import { tempDir } from "../../helpers/tsbuild.js";
import { activeDirs, committedDir, writeTree } from "./helpers.js";

const ownStart = () => {
  const stat = readFileSync(`/proc/${process.pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
};
const recordFile = (root: string, key: string) => join(root, "records", `${encodeURIComponent(key)}.json`);

async function commitFiles(sn: Snapshotter, name: string, files: Record<string, string>, parent?: string) {
  await sn.prepare(`${name}-tmp`, parent);
  writeTree((await activeDirs(sn, `${name}-tmp`)).upper!, files);
  await sn.commit(name, `${name}-tmp`);
}

describe("overlay snapshotter records", () => {
  let dir: ReturnType<typeof tempDir>;
  let root: string;
  beforeEach(() => {
    dir = tempDir("records");
    root = join(dir.path, "snapshots");
  });
  afterEach(() => dir.cleanup());

  it("recovers at open only after a process died with the store open", async () => {
    const sn = await openOverlaySnapshotter(root);
    await commitFiles(sn, "base", { f: "1" });
    mkdirSync(join(root, "0123456789ab", "fs"), { recursive: true }); // an orphan id dir
    await openOverlaySnapshotter(root); // this process is alive: nothing to recover
    expect(existsSync(join(root, "0123456789ab"))).toBe(true);
    writeFileSync(join(root, "owners", "999999999-1"), "");
    await openOverlaySnapshotter(root);
    expect(existsSync(join(root, "0123456789ab"))).toBe(false);
    expect(readdirSync(join(root, "owners"))).toEqual([`${process.pid}-${ownStart()}`]);
  });

  it("drops the active snapshots of a process that died, keeping a live one's", async () => {
    const sn = await openOverlaySnapshotter(root);
    await commitFiles(sn, "base", { f: "1" });
    await sn.prepare("active/mine", "base");
    await sn.prepare("active/dead", "base");
    const dead = JSON.parse(readFileSync(recordFile(root, "active/dead"), "utf8"));
    writeFileSync(recordFile(root, "active/dead"), JSON.stringify({ ...dead, owner: "999999999-1" }));
    writeFileSync(join(root, "owners", "999999999-1"), "");
    const again = await openOverlaySnapshotter(root);
    await expect(again.stat("active/dead")).rejects.toThrow(/not found/);
    expect(existsSync(join(root, dead.id))).toBe(false);
    expect((await again.stat("active/mine")).kind).toBe("active");
  });

  it("keeps one record per snapshot and leaves the others' files alone", async () => {
    const sn = await openOverlaySnapshotter(root);
    await commitFiles(sn, "chain:sha256:aa", { a: "1" });
    const before = statSync(recordFile(root, "chain:sha256:aa")).mtimeMs;
    await commitFiles(sn, "chain:sha256:bb", { b: "2" }, "chain:sha256:aa");
    await sn.prepare("active/x", "chain:sha256:bb");
    expect(statSync(recordFile(root, "chain:sha256:aa")).mtimeMs).toBe(before);
    const files = readdirSync(join(root, "records")).sort();
    expect(files).toEqual(["active%2Fx.json", "chain%3Asha256%3Aaa.json", "chain%3Asha256%3Abb.json"]);
    const rec = JSON.parse(readFileSync(recordFile(root, "active/x"), "utf8"));
    expect(rec).toMatchObject({ key: "active/x", kind: "active", parent: "chain:sha256:bb" });
    expect(existsSync(join(root, rec.id, "fs"))).toBe(true);
  });

  it("re-opens after a power cut: torn records, temp files and a half-done commit are cleared", async () => {
    const sn = await openOverlaySnapshotter(root);
    await commitFiles(sn, "base", { f: "1" });
    await sn.prepare("active/torn", "base");
    const tornId = JSON.parse(readFileSync(recordFile(root, "active/torn"), "utf8")).id;
    writeFileSync(recordFile(root, "active/torn"), ""); // an unsynced record after a power cut
    writeFileSync(join(root, "records", ".tmp-0123456789ab"), '{"key":');
    // A commit cut between writing the committed record and removing the active one.
    await sn.prepare("active/half", "base");
    writeTree((await activeDirs(sn, "active/half")).upper!, { g: "2" });
    copyFileSync(recordFile(root, "active/half"), join(dir.path, "half.json"));
    await sn.commit("done", "active/half");
    copyFileSync(join(dir.path, "half.json"), recordFile(root, "active/half"));
    writeFileSync(join(root, "owners", "999999999-1"), ""); // the process that crashed
    const again = await openOverlaySnapshotter(root);
    expect(readdirSync(join(root, "records")).sort()).toEqual(["base.json", "done.json"]);
    expect(existsSync(join(root, tornId))).toBe(false);
    await expect(again.stat("active/half")).rejects.toThrow(/not found/);
    expect(readFileSync(join(await committedDir(again, "done"), "g"), "utf8")).toBe("2");
    await again.prepare("active/half", "done"); // the key is free again
  });

  it("migrates a store whose snapshots are all in metadata.json", async () => {
    mkdirSync(join(root, "1", "fs"), { recursive: true });
    mkdirSync(join(root, "1", "work"));
    writeTree(join(root, "1", "fs"), { old: "legacy" });
    mkdirSync(join(root, "9", "fs"), { recursive: true }); // named by no snapshot: garbage
    const t = "2026-01-01T00:00:00.000Z";
    writeFileSync(
      join(root, "metadata.json"),
      JSON.stringify({
        version: 1,
        nextId: 3,
        snapshots: {
          "chain:sha256:old": { id: "1", kind: "committed", labels: {}, created: t, updated: t },
          "active/stale": {
            id: "2",
            kind: "active",
            parent: "chain:sha256:old",
            labels: {},
            created: t,
            updated: t,
          },
        },
      }),
    );
    const sn = await openOverlaySnapshotter(root);
    expect(existsSync(join(root, "metadata.json"))).toBe(false);
    expect(existsSync(join(root, "9"))).toBe(false);
    expect((await sn.stat("chain:sha256:old")).kind).toBe("committed");
    expect(await committedDir(sn, "chain:sha256:old")).toBe(join(root, "1", "fs"));
    expect(readFileSync(join(root, "1", "fs", "old"), "utf8")).toBe("legacy");
    await sn.prepare("next", "chain:sha256:old");
  });
});
