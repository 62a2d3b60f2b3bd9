// ADD (archives by content, plain files, URLs with --checksum) and COPY heredocs / --chown / --chmod.
import { createHash } from "node:crypto";
import { lstatSync, readFileSync } from "node:fs";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../helpers/tsbuild.js";
import { BUSYBOX_BASE, build, sh, unpack, writeFiles } from "./helpers.js";

const PAYLOAD = "downloaded payload\n";
const PAYLOAD_DIGEST = `sha256:${createHash("sha256").update(PAYLOAD).digest("hex")}`;
const WRONG = `sha256:${"0".repeat(64)}`;
const SERVER = `
const http = require("node:http");
const s = http.createServer((req, res) => {
  if (req.url === "/files/tool.txt") res.end(process.argv[1]);
  else res.writeHead(404).end();
});
s.listen(0, "127.0.0.1", () => console.log(s.address().port));
`;

describe("ADD and COPY sources", () => {
  const store = tempDir("fe-add-store");
  const work = tempDir("fe-add-work");
  const ctx = join(work.path, "ctx");
  let server: ChildProcess;
  let base: string;
  let rootfs: string;
  let result: ReturnType<typeof build>;

  beforeAll(async () => {
    // The server runs in its own process: the CLI runs through spawnSync, which blocks this one.
    server = spawn(process.execPath, ["-e", SERVER, PAYLOAD], { stdio: ["ignore", "pipe", "inherit"] });
    const port = await new Promise<string>((res, rej) => {
      server.stdout?.once("data", (d: Buffer) => res(d.toString().trim()));
      server.once("exit", (code) => rej(new Error(`test server exited ${code}`)));
    });
    base = `http://127.0.0.1:${port}`;
    writeFiles(work.path, { "tree/sub/a.txt": "archived\n", "tree/sub/run.sh": "#!/bin/sh\n" });
    writeFiles(ctx, {
      "plain.txt": "plain\n",
      Dockerfile: [
        BUSYBOX_BASE,
        "FROM base",
        "RUN echo 'app:x:1234:2345::/home/app:/bin/sh' >> /etc/passwd && echo 'grp:x:2345:' >> /etc/group",
        "ARG WHO=world",
        "ARG BASE",
        "COPY <<EOF /greeting",
        'hello ${WHO} "quoted"',
        "EOF",
        "COPY <<'EOT' /raw",
        "raw ${WHO}",
        "EOT",
        "COPY --chown=app:grp plain.txt /owned.txt",
        "COPY --chmod=0751 plain.txt /mode.txt",
        "COPY --chmod=u=rw,go=r plain.txt /symbolic.txt",
        "ADD tree.tar /x/tar/",
        "ADD tree.tgz /x/tgz",
        "ADD tree.tbz2 /x/tbz2/",
        "ADD tree.txz /x/txz/",
        "ADD tree.tzst /x/tzst/",
        "ADD not-a-tar.gz /x/gz/",
        "ADD data.tar.gz.txt /x/renamed/",
        "ADD plain.txt /x/plain/",
        `ADD --checksum=${PAYLOAD_DIGEST} \${BASE}/files/tool.txt /dl/`,
        "ADD --chown=app:grp --chmod=0640 ${BASE}/files/tool.txt /dl/owned.txt",
        "",
      ].join("\n"),
    });
    sh("tar", ["-cf", join(ctx, "tree.tar"), "-C", join(work.path, "tree"), "sub"]);
    sh(
      "sh",
      [
        "-c",
        "gzip -c tree.tar > tree.tgz && bzip2 -c tree.tar > tree.tbz2 && xz -c tree.tar > tree.txz && zstd -q -c tree.tar > tree.tzst && cp tree.tgz data.tar.gz.txt && echo notatar | gzip -c > not-a-tar.gz",
      ],
      { cwd: ctx },
    );
    result = build(store.path, ctx, [
      "-t",
      "add:1",
      "--build-arg",
      `BASE=${base}`,
      "-o",
      `type=oci,dest=${work.path}/add.tar`,
    ]);
    rootfs = unpack(`${work.path}/add.tar`, work.path, "add");
  }, 120_000);
  afterAll(() => {
    server.kill();
    store.cleanup();
    work.cleanup();
  });

  const file = (p: string) => readFileSync(join(rootfs, p), "utf8");
  const mode = (p: string) => (lstatSync(join(rootfs, p)).mode & 0o7777).toString(8);
  const owner = (p: string) => `${lstatSync(join(rootfs, p)).uid}:${lstatSync(join(rootfs, p)).gid}`;

  it("builds", () => {
    expect(result.stderr).not.toMatch(/^error/m);
    expect(result.code).toBe(0);
  });

  it("writes COPY heredocs, expanded unless the delimiter is quoted", () => {
    expect(file("greeting")).toBe('hello world "quoted"\n');
    expect(file("raw")).toBe("raw ${WHO}\n");
    expect(mode("greeting")).toBe("644");
  });

  it("applies --chown by name and --chmod octal and symbolic", () => {
    expect(owner("owned.txt")).toBe("1234:2345");
    expect(mode("mode.txt")).toBe("751");
    expect(mode("symbolic.txt")).toBe("644");
  });

  it("extracts tar, tar.gz, tar.bz2, tar.xz and tar.zst, recognized by content", () => {
    for (const d of ["tar", "tgz", "tbz2", "txz", "tzst", "renamed"]) {
      expect(file(`x/${d}/sub/a.txt`)).toBe("archived\n");
      expect(file(`x/${d}/sub/run.sh`)).toBe("#!/bin/sh\n");
    }
  });

  it("copies a plain file and a .gz that holds no tar without extracting", () => {
    expect(file("x/plain/plain.txt")).toBe("plain\n");
    expect(sh("gzip", ["-dc", join(rootfs, "x/gz/not-a-tar.gz")])).toBe("notatar\n");
  });

  it("downloads a URL with a matching --checksum, mode 0600, named from the URL", () => {
    expect(file("dl/tool.txt")).toBe(PAYLOAD);
    expect(mode("dl/tool.txt")).toBe("600");
    expect(owner("dl/tool.txt")).toBe("0:0");
    expect(mode("dl/owned.txt")).toBe("640");
    expect(owner("dl/owned.txt")).toBe("1234:2345");
  });

  it("fails a wrong --checksum naming the URL and both digests", () => {
    writeFiles(ctx, {
      "bad/Dockerfile": `FROM scratch\nADD --checksum=${WRONG} ${base}/files/tool.txt /t\n`,
    });
    const r = build(store.path, join(ctx, "bad"));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${base}/files/tool.txt`);
    expect(r.stderr).toContain(WRONG);
    expect(r.stderr).toContain(PAYLOAD_DIGEST);
  });

  it("refuses an archive entry that climbs out of the destination", () => {
    writeFiles(work.path, { "evil/x": "x\n" });
    sh("tar", [
      "-cf",
      join(ctx, "evil.tar"),
      "-C",
      join(work.path, "evil"),
      "--transform",
      "s,^x,../../escape,",
      "x",
    ]);
    writeFiles(ctx, { "evil/Dockerfile": "FROM scratch\nADD evil.tar /d/\n" });
    const r = build(store.path, ctx, ["-f", join(ctx, "evil/Dockerfile")]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/escapes the destination/);
  });
});
