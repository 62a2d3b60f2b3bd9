// `tsbuild build` on a real terminal (a pty from script(1)): --progress auto picks the terminal view.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO, TSBUILD, tempDir } from "../../helpers/tsbuild.js";
import { BUSYBOX_BASE, writeFiles } from "../frontend/helpers.js";

/** Runs a tsbuild command line under a pty; returns what the terminal received and the exit status. */
function onTerminal(args: string[], root: string): { code: number | null; screen: string } {
  const cmd = [TSBUILD, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const r = spawnSync("script", ["-qefc", cmd, "/dev/null"], {
    cwd: REPO,
    env: { ...process.env, TSBUILD_ROOT: root, TERM: "xterm", COLUMNS: "100" },
    encoding: "utf8",
  });
  return { code: r.status, screen: r.stdout };
}

describe("progress on a terminal", () => {
  const store = tempDir("tty-store");
  afterAll(() => store.cleanup());
  const args = [
    "build",
    "-t",
    "hello:tty",
    "--build-context",
    "busybox-bin=/bin",
    join(REPO, "examples/hello"),
  ];

  it("draws the live view, then leaves one line per step and the summary", () => {
    const first = onTerminal(args, store.path);
    expect(first.code).toBe(0);
    expect(first.screen).toMatch(
      /=> \[busybox 2\/2\] RUN \["\/bin\/busybox", "--install", "-s", "\/bin"\] \d+\.\ds/,
    );
    expect(first.screen).toMatch(/=> 6 steps, 0 cached \(0%\)/);
    // Plain progress lines never appear: "auto" chose the terminal view.
    expect(first.screen).not.toMatch(/^#\d+ /m);
    const again = onTerminal(args, store.path);
    expect(again.code).toBe(0);
    expect(again.screen.match(/=> CACHED /g)).toHaveLength(6);
    expect(again.screen).toMatch(/=> 6 steps, 6 cached \(100%\)/);
  });

  it("exits 1 on a failing step, keeping its output on the screen", () => {
    const ctx = join(store.path, "ctx");
    writeFiles(ctx, { Dockerfile: `${BUSYBOX_BASE}\nFROM base\nRUN echo visible-output && exit 3\n` });
    const r = onTerminal(["build", "-t", "bad:tty", "--build-context", "busybox-bin=/bin", ctx], store.path);
    expect(r.code).toBe(1);
    expect(r.screen).toMatch(/=> ERROR \[stage-1 1\/1\] RUN echo visible-output && exit 3/);
    expect(r.screen).toContain("   > visible-output");
    expect(r.screen).toContain("exit code: 3");
  });
});
