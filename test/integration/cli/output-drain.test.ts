// Every byte of output reaches a slow reader: a command exits only once stdout and stderr have drained
// (it used to end with process.exit(), which dropped Node's queued writes to a pipe).
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TSBUILD, tempDir } from "../../helpers/tsbuild.js";

let work: ReturnType<typeof tempDir>;
beforeAll(() => {
  work = tempDir("drain");
});
afterAll(() => work.cleanup());

/** Runs `tsbuild ARGS` with stdout and stderr into a pipe whose reader sleeps first; what it read. */
function throughSlowPipe(args: string, root: string): { out: string; code: string } {
  const script = `"${TSBUILD}" ${args} 2>&1; echo "exit $?"`;
  const r = spawnSync("sh", ["-c", `{ ${script}; } | (sleep 2; cat)`], {
    env: { ...process.env, TSBUILD_ROOT: root },
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  const lines = r.stdout.trimEnd().split("\n");
  return { out: r.stdout, code: lines.at(-1)! };
}

describe("output at exit", () => {
  it("delivers a build's whole log, summary and digest through a slow pipe, and a failure's error line", () => {
    const ctx = join(work.path, "ctx");
    mkdirSync(ctx);
    const base = ["FROM scratch", "COPY --from=busybox-bin busybox /bin/busybox"];
    writeFileSync(
      join(ctx, "Dockerfile"),
      [...base, 'RUN ["/bin/busybox", "seq", "1", "100000"]', ""].join("\n"),
    );
    const root = join(work.path, "store");
    const ok = throughSlowPipe(
      `build --no-cache --progress plain -t big:1 --build-context busybox-bin=/bin ${ctx}`,
      root,
    );
    expect(ok.code).toBe("exit 0");
    expect(ok.out).toContain(" 100000\n");
    expect(ok.out.split("\n").filter((l) => /^#\d+ \d+$/.test(l))).toHaveLength(100000);
    expect(ok.out).toMatch(/\n=> 2 steps, 0 cached \(0%\), .* — image big:1 sha256:[0-9a-f]{12}…\n/);

    writeFileSync(
      join(ctx, "Dockerfile"),
      [...base, 'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox seq 1 100000; exit 3"]', ""].join("\n"),
    );
    const failed = throughSlowPipe(
      `build --no-cache --progress plain --build-context busybox-bin=/bin ${ctx}`,
      root,
    );
    expect(failed.code).toBe("exit 1");
    expect(failed.out).toMatch(/\nerror: .*did not complete successfully: exit code: 3\n/);
  });
});
