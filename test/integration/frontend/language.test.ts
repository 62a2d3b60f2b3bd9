// Dockerfile language through real builds: ARG scoping, ONBUILD, .dockerignore, WORKDIR, SHELL,
// RUN heredocs, HEALTHCHECK/STOPSIGNAL in the config, and `tsbuild check`.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir, tsbuild } from "../../helpers/tsbuild.js";
import { BUSYBOX_BASE, build, inspect, unpack, writeFiles } from "./helpers.js";

const MAIN = [
  "ARG GLOBAL=global-default",
  "ARG OVERRIDDEN=default",
  BUSYBOX_BASE,
  "FROM base AS first",
  "ARG GLOBAL",
  "ARG LOCAL=first-local",
  'RUN echo "$GLOBAL $OVERRIDDEN $LOCAL" > /first.txt',
  "",
  "FROM base",
  "ARG OVERRIDDEN",
  'RUN echo "[$GLOBAL] [$OVERRIDDEN] [$LOCAL]" > /args.txt',
  "COPY --from=first /first.txt /first.txt",
  "COPY . /ctx/",
  "WORKDIR app",
  "WORKDIR sub",
  "WORKDIR ../other",
  "RUN pwd > /pwd.txt",
  "RUN <<EOF",
  "echo heredoc-one > /heredoc.txt",
  "echo heredoc-two >> /heredoc.txt",
  "EOF",
  'SHELL ["/bin/echo", "via-echo"]',
  "RUN ignored-words",
  // The command line becomes $0 of a script given in SHELL: proof that RUN went through it.
  'SHELL ["/bin/sh", "-c", "echo \\"$0\\" > /shell.txt"]',
  "RUN switched-ok",
  'SHELL ["/bin/sh", "-c"]',
  "HEALTHCHECK --interval=30s --timeout=5s --start-period=2s --retries=4 CMD wget -q localhost || exit 1",
  "STOPSIGNAL SIGQUIT",
  "ONBUILD RUN echo triggered > /onbuild.txt",
  "ONBUILD COPY kid.txt /kid.txt",
  "",
].join("\n");

describe("Dockerfile language in real builds", () => {
  const store = tempDir("fe-lang-store");
  const work = tempDir("fe-lang-work");
  const ctx = join(work.path, "ctx");
  let rootfs: string;
  let result: ReturnType<typeof build>;

  beforeAll(() => {
    writeFiles(ctx, {
      Dockerfile: MAIN,
      ".dockerignore": "*.log\n!keep.log\nsecret/\n",
      "a.log": "no\n",
      "keep.log": "yes\n",
      "secret/x": "no\n",
      "kept.txt": "kept\n",
    });
    result = build(store.path, ctx, [
      "-t",
      "parent:1",
      "--build-arg",
      "OVERRIDDEN=from-cli",
      "-o",
      `type=oci,dest=${work.path}/p.tar`,
    ]);
    rootfs = unpack(`${work.path}/p.tar`, work.path, "parent");
  }, 120_000);
  afterAll(() => {
    store.cleanup();
    work.cleanup();
  });
  const file = (p: string) => readFileSync(join(rootfs, p), "utf8");

  it("builds", () => {
    expect(result.stderr).not.toMatch(/^error/m);
    expect(result.code).toBe(0);
  });

  it("scopes ARGs: global only where re-declared, --build-arg wins, stage ARGs stay in their stage", () => {
    expect(file("first.txt")).toBe("global-default  first-local\n");
    expect(file("args.txt")).toBe("[] [from-cli] []\n");
    const cfg = inspect(store.path, "parent:1").config.config;
    expect(JSON.stringify(cfg.Env)).not.toMatch(/OVERRIDDEN|GLOBAL|LOCAL/);
  });

  it("applies .dockerignore with ! exceptions", () => {
    expect(existsSync(join(rootfs, "ctx/keep.log"))).toBe(true);
    expect(existsSync(join(rootfs, "ctx/a.log"))).toBe(false);
    expect(existsSync(join(rootfs, "ctx/secret"))).toBe(false);
    expect(file("ctx/kept.txt")).toBe("kept\n");
  });

  it("chains relative WORKDIRs and creates them", () => {
    expect(file("pwd.txt")).toBe("/app/other\n");
    expect(existsSync(join(rootfs, "app/sub"))).toBe(true);
    expect(inspect(store.path, "parent:1").config.config.WorkingDir).toBe("/app/other");
  });

  it("runs a RUN heredoc as a script", () => {
    expect(file("heredoc.txt")).toBe("heredoc-one\nheredoc-two\n");
  });

  it("switches SHELL for later RUNs and stores it", () => {
    expect(file("shell.txt")).toBe("switched-ok\n");
    expect(result.stderr).toContain("via-echo ignored-words");
    const cfg = inspect(store.path, "parent:1").config.config;
    expect(cfg.Shell).toEqual(["/bin/sh", "-c"]);
  });

  it("puts HEALTHCHECK, STOPSIGNAL and ONBUILD in the config", () => {
    const cfg = inspect(store.path, "parent:1").config.config;
    expect(cfg.Healthcheck).toEqual({
      Test: ["CMD-SHELL", "wget -q localhost || exit 1"],
      Interval: 30e9,
      Timeout: 5e9,
      StartPeriod: 2e9,
      Retries: 4,
    });
    expect(cfg.StopSignal).toBe("SIGQUIT");
    expect(cfg.OnBuild).toEqual(["RUN echo triggered > /onbuild.txt", "COPY kid.txt /kid.txt"]);
  });

  it("fires ONBUILD triggers in a child build and clears them", () => {
    const kid = join(work.path, "kid");
    writeFiles(kid, {
      Dockerfile: "FROM parent:1\nRUN cat /kid.txt /onbuild.txt > /both.txt\n",
      "kid.txt": "kid\n",
    });
    const r = build(store.path, kid, ["-t", "kid:1", "-o", `type=oci,dest=${work.path}/k.tar`]);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    const kidRoot = unpack(`${work.path}/k.tar`, work.path, "kid");
    expect(readFileSync(join(kidRoot, "both.txt"), "utf8")).toBe("kid\ntriggered\n");
    expect(inspect(store.path, "kid:1").config.config.OnBuild).toBeUndefined();
  });

  it("shows build-check warnings after a build", () => {
    const dir = join(work.path, "warn");
    writeFiles(dir, { Dockerfile: "FROM scratch\nENV A b\nCMD echo hi\n" });
    const r = build(store.path, dir);
    expect(r.code).toBe(0);
    const tail = r.stderr.slice(r.stderr.indexOf("warning"));
    expect(tail).toMatch(/LegacyKeyValueFormat/);
    expect(tail).toMatch(/JSONArgsRecommended/);
  });

  it("tsbuild check prints FILE:LINE: Code: message and exits 0, 1 with --strict, 2 on parse errors", () => {
    const dir = join(work.path, "chk");
    writeFiles(dir, { Dockerfile: "from scratch AS Build\nENV A b\nCMD echo hi\n" });
    const r = tsbuild(["check", dir], { root: store.path });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Dockerfile:2: LegacyKeyValueFormat: /m);
    expect(r.stdout).toMatch(/^Dockerfile:3: JSONArgsRecommended: /m);
    expect(tsbuild(["check", "--strict", dir], { root: store.path }).code).toBe(1);
    writeFiles(dir, {
      "ok.Dockerfile": 'FROM scratch\nCMD ["x"]\n',
      "bad.Dockerfile": "FROM scratch\nFROBNICATE x\n",
    });
    const ok = tsbuild(["check", "--strict", "-f", join(dir, "ok.Dockerfile"), dir], { root: store.path });
    expect(ok.stdout).toBe("");
    expect(ok.code).toBe(0);
    const bad = tsbuild(["check", "-f", join(dir, "bad.Dockerfile"), dir], { root: store.path });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad.Dockerfile:2/);
  });
});
