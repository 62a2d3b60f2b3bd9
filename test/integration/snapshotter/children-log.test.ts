// The overlay snapshotter's parent → children index (snapshotter/children.ts): appended to, never
// re-created, by prepare and commit; read across instances; and never missing a child after what a
// killed process or a power cut can leave: a torn last line, no log, a log that lost its tail.
import { type ChildProcess, spawn } from "node:child_process";
import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openOverlaySnapshotter } from "../../../snapshotter/overlay.js";
import type { Snapshotter } from "../../../snapshotter/types.js";
import { tempDir } from "../../helpers/tsbuild.js";
import { commitTree } from "./helpers.js";

/** The compiled snapshotter (`npm test` builds dist/ first): what another process runs. */
const COMPILED = join(import.meta.dirname, "../../../dist/snapshotter/overlay.js");
const COMPILED_MOUNT = join(import.meta.dirname, "../../../dist/snapshotter/mount.js");
const DEAD_OWNER = "999999999-1";

const logLines = (root: string) => readFileSync(join(root, "children.log"), "utf8").split("\n");

/** The parents of every snapshot there is, each of which must refuse to go. */
async function expectParentsKept(sn: Snapshotter): Promise<number> {
  const parents = new Set<string>();
  await sn.walk((info) => {
    if (info.parent !== undefined) parents.add(info.parent);
  });
  for (const p of parents) await expect(sn.remove(p), p).rejects.toThrow(/cannot remove, .* is based on it/);
  return parents.size;
}

/** Removes every snapshot, children first; fails if one cannot go. */
async function removeAll(sn: Snapshotter): Promise<void> {
  const parentOf = new Map<string, string | undefined>();
  await sn.walk((info) => {
    parentOf.set(info.name, info.parent);
  });
  const depth = (n: string | undefined): number => (n === undefined ? 0 : 1 + depth(parentOf.get(n)));
  for (const name of [...parentOf.keys()].sort((a, b) => depth(b) - depth(a))) await sn.remove(name);
}

/**
 * A process that prepares, commits, views and removes snapshots on `root` without end, on a chain
 * over "base"; resolves once it has committed its first.
 */
async function churn(root: string): Promise<ChildProcess> {
  const script = `import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openOverlaySnapshotter } from ${JSON.stringify(COMPILED)};
import { upperDirOf } from ${JSON.stringify(COMPILED_MOUNT)};
const sn = await openOverlaySnapshotter(process.argv[1]);
let top = "base";
for (let i = 0; ; i++) {
  const mounts = await sn.prepare("a" + i, top);
  writeFileSync(join(upperDirOf(mounts), "f"), String(i));
  await sn.commit("c" + i, "a" + i);
  if (i === 0) process.stdout.write("committed\\n");
  await sn.view("v" + i, "c" + i);
  await sn.remove("v" + i);
  if (i % 3 === 2) await sn.remove("c" + i);
  else top = "c" + i;
}`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script, root], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`churn exited ${code}`)));
  });
  return child;
}

describe("overlay snapshotter children index", () => {
  let dir: ReturnType<typeof tempDir>;
  let root: string;
  let log: string;
  beforeEach(() => {
    dir = tempDir("children");
    root = join(dir.path, "snapshots");
    log = join(root, "children.log");
  });
  afterEach(() => dir.cleanup());

  it("prepare and commit append a line each to the one log, and make no other file", async () => {
    const sn = await openOverlaySnapshotter(root);
    await commitTree(sn, "base", { f: "1" });
    const ino = statSync(log).ino;
    const others = readdirSync(root).filter((n) => !/^[0-9a-f]{12}$/.test(n));
    await commitTree(sn, "chain:sha256:b b", { g: "2" }, "base");
    expect(statSync(log).ino).toBe(ino);
    expect(readdirSync(root).filter((n) => !/^[0-9a-f]{12}$/.test(n))).toEqual(others);
    expect(logLines(root).slice(1)).toEqual([
      "+ base chain%3Asha256%3Ab%20b-active",
      "+ base chain%3Asha256%3Ab%20b",
      "- base chain%3Asha256%3Ab%20b-active",
      "",
    ]);
  });

  it("makes no child whose line it could not append: the line goes first", async () => {
    const sn = await openOverlaySnapshotter(root);
    await commitTree(sn, "base", { f: "1" });
    await sn.prepare("active/a", "base");
    rmSync(log);
    mkdirSync(log); // any append now fails
    await expect(sn.prepare("active/b", "base")).rejects.toThrow(/EISDIR/);
    await expect(sn.commit("done", "active/a")).rejects.toThrow(/EISDIR/);
    await expect(sn.stat("active/b")).rejects.toThrow("not found");
    await expect(sn.stat("done")).rejects.toThrow("not found");
    expect((await sn.stat("active/a")).kind).toBe("active");
    rmdirSync(log);
    await sn.commit("done", "active/a");
    await expect(sn.remove("base")).rejects.toThrow("snapshot base: cannot remove, done is based on it");
  });

  it("sees a child that another process committed after it last looked", async () => {
    const sn = await openOverlaySnapshotter(root);
    await commitTree(sn, "base", { f: "1" });
    await commitTree(sn, "gone", { g: "1" }, "base");
    await sn.remove("gone");
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openOverlaySnapshotter } from ${JSON.stringify(COMPILED)};
import { upperDirOf } from ${JSON.stringify(COMPILED_MOUNT)};
const sn = await openOverlaySnapshotter(process.argv[1]);
writeFileSync(join(upperDirOf(await sn.prepare("k", "base")), "f"), "x");
await sn.commit("theirs", "k");`,
        root,
      ],
      { stdio: "inherit" },
    );
    expect(await new Promise((resolve) => child.on("exit", resolve))).toBe(0);
    await expect(sn.remove("base")).rejects.toThrow("snapshot base: cannot remove, theirs is based on it");
    await sn.remove("theirs");
    await sn.remove("base");
  });

  it("reads past a line torn by a write cut short, which the next append cuts off", async () => {
    const sn = await openOverlaySnapshotter(root);
    await commitTree(sn, "base", { f: "1" });
    await commitTree(sn, "child-1", { g: "1" }, "base");
    await commitTree(sn, "child-10", { g: "10" }, "base");
    await sn.remove("child-10");
    // Its "- base child-10" cut to "- base child-1": read as a line, it would drop child-1's edge,
    // and a line appended to it would be lost.
    truncateSync(log, statSync(log).size - 2);
    const other = await openOverlaySnapshotter(root);
    await expect(other.remove("base")).rejects.toThrow("cannot remove, child-1 is based on it");
    // Appended by a process that never read the log, then by one that did.
    await (await openOverlaySnapshotter(root)).prepare("k-1", "base");
    expect(logLines(root).slice(-3)).toEqual(["- base child-10-active", "+ base k-1", ""]);
    await sn.prepare("k-10", "base");
    await sn.remove("k-10");
    truncateSync(log, statSync(log).size - 2);
    await sn.prepare("k-2", "base");
    expect(logLines(root).slice(-3)).toEqual(["+ base k-10", "+ base k-2", ""]);
    const kept = ["child-1", "k-1", "k-2"];
    for (const name of kept) {
      for (const s of [sn, other])
        await expect(s.remove("base")).rejects.toThrow(/cannot remove, .* is based on it/);
      await other.remove(name);
    }
    await sn.remove("base");
  });

  it("rebuilds a missing log from the records (a store made before it)", async () => {
    const sn = await openOverlaySnapshotter(root);
    await commitTree(sn, "base", { f: "1" });
    await commitTree(sn, "child", { g: "1" }, "base");
    await expect(sn.remove("base")).rejects.toThrow("cannot remove, child is based on it");
    rmSync(log);
    await sn.prepare("scratch"); // no parent: no line, no log
    await sn.remove("scratch");
    expect(readdirSync(root)).not.toContain("children.log");
    await expect(sn.remove("base")).rejects.toThrow("cannot remove, child is based on it");
    expect(logLines(root).slice(1)).toEqual(["+ base child", ""]);
    rmSync(log);
    const fresh = await openOverlaySnapshotter(root);
    await fresh.prepare("active/next", "child"); // the log comes back with both edges
    await expect(fresh.remove("base")).rejects.toThrow("cannot remove, child is based on it");
    await expect(fresh.remove("child")).rejects.toThrow("cannot remove, active/next is based on it");
  });

  it("rewrites a log that lost appends in a crash when open() recovers", async () => {
    const sn = await openOverlaySnapshotter(root);
    await commitTree(sn, "base", { f: "1" });
    await commitTree(sn, "gone", { g: "1" }, "base");
    copyFileSync(log, join(dir.path, "before.log"));
    await sn.remove("gone");
    await commitTree(sn, "child", { g: "2" }, "base");
    copyFileSync(join(dir.path, "before.log"), log); // names gone, not child
    writeFileSync(join(root, "owners", DEAD_OWNER), "");
    const again = await openOverlaySnapshotter(root);
    expect(logLines(root).slice(1)).toEqual(["+ base child", ""]);
    await expect(again.remove("base")).rejects.toThrow("snapshot base: cannot remove, child is based on it");
  });

  it("follows the log to the new file when another opener's recovery rewrites it", async () => {
    const sn = await openOverlaySnapshotter(root);
    await commitTree(sn, "base", { f: "1" });
    await commitTree(sn, "gone", { g: "1" }, "base");
    await sn.remove("gone"); // sn holds the log, read to its end
    const { ino, size } = statSync(log);
    writeFileSync(join(root, "owners", DEAD_OWNER), "");
    const other = await openOverlaySnapshotter(root); // recovers: the log is a new file
    for (let i = 0; i < 10; i++) await commitTree(other, `child-${i}`, { g: "2" }, "base");
    expect(statSync(log).ino).not.toBe(ino);
    expect(statSync(log).size).toBeGreaterThan(size); // so only the inode tells it is another file
    await expect(sn.remove("base")).rejects.toThrow(/snapshot base: cannot remove, child-\d is based on it/);
  });

  it("rebuilds a log written before the last boot: a power cut may have lost its tail", async () => {
    const sn = await openOverlaySnapshotter(root);
    await commitTree(sn, "base", { f: "1" });
    await commitTree(sn, "child", { g: "2" }, "base");
    const [header] = logLines(root);
    // The line for child lost, and no owner file left to make open() recover.
    writeFileSync(log, `${header!.replace(/ boot \S+/, " boot 00000000-0000-0000-0000-000000000000")}\n`);
    const again = await openOverlaySnapshotter(root);
    await expect(again.remove("base")).rejects.toThrow("snapshot base: cannot remove, child is based on it");
    expect(logLines(root)).toEqual([header, "+ base child", ""]);
  });

  it("ignores lines it did not write, and compacts a log of mostly removed edges", async () => {
    const sn = await openOverlaySnapshotter(root);
    await commitTree(sn, "base", { f: "1" });
    await commitTree(sn, "child", { g: "2" }, "base");
    await commitTree(sn, "other", { h: "3" });
    const churned = Array.from({ length: 3000 }, (_, i) => `+ base x${i}\n- base x${i}\n`).join("");
    appendFileSync(log, `${churned}\0\0\0\n+ %E0%A4%A base bad\njunk\n`);
    await expect(sn.remove("base")).rejects.toThrow("snapshot base: cannot remove, child is based on it");
    await sn.remove("other"); // reads nothing new: compacted on the read above
    expect(logLines(root).slice(1)).toEqual(["+ base child", ""]);
    await sn.remove("child");
    await sn.remove("base");
  });

  for (const ms of [40, 120, 300]) {
    it(`never loses a child when a process is killed (SIGKILL after ${ms} ms)`, async () => {
      const watcher = await openOverlaySnapshotter(root);
      await commitTree(watcher, "base", { f: "1" });
      await commitTree(watcher, "gone", { f: "2" }, "base");
      await watcher.remove("gone"); // the watcher's index is loaded: it only reads what is new
      const child = await churn(root);
      await sleep(ms);
      const exited = new Promise((resolve) => child.on("exit", resolve));
      child.kill("SIGKILL");
      await exited;
      // Without recovery (a process that had the store open all along), then with it.
      expect(await expectParentsKept(watcher)).toBeGreaterThan(0);
      const again = await openOverlaySnapshotter(root);
      expect(await expectParentsKept(again)).toBeGreaterThan(0);
      await removeAll(again);
      expect(await expectParentsKept(again)).toBe(0);
      expect(readdirSync(root).filter((n) => /^[0-9a-f]{12}$/.test(n))).toEqual([]);
    });
  }
});
