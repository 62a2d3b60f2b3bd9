// HTTPS with a private CA, as a user behind a company CA has it: NODE_EXTRA_CA_CERTS names the CA, and
// push, pull and ADD <https url> trust it. bin/tsbuild hands the variable over to tsbuild, which loads
// it at the first HTTPS connection instead of at node's start-up (src/http/trust.ts).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pemCertificates } from "../../../src/http/trust.js";
import { makeCertificates } from "../../helpers/certs.js";
import { type RunningRegistry, startRegistry } from "../../helpers/registry.js";
import { tempDir, tsbuild } from "../../helpers/tsbuild.js";
import { unpack } from "../frontend/helpers.js";

/** An HTTPS server answering every request with one line; prints its port. */
const FILE_SERVER = `
const { readFileSync } = require("node:fs");
const [cert, key] = process.argv.slice(1).map((p) => readFileSync(p));
const server = require("node:https").createServer({ cert, key }, (_req, res) => res.end("served over https\\n"));
server.listen(0, "127.0.0.2", () => console.log(server.address().port));
`;

describe("HTTPS trust through NODE_EXTRA_CA_CERTS", () => {
  const work = tempDir("https-trust");
  let certs: { ca: string; certificate: string; key: string };
  let registry: RunningRegistry;
  let files: ChildProcess;
  let fileUrl: string;
  const context = join(work.path, "context");
  const withCa = () => ({ NODE_EXTRA_CA_CERTS: certs.ca });
  const withoutCa = { NODE_EXTRA_CA_CERTS: "" };

  beforeAll(async () => {
    certs = makeCertificates(work.path);
    registry = await startRegistry({ tls: certs });
    // Another process: the test's tsbuild runs through spawnSync, which blocks this one's event loop.
    files = spawn(process.execPath, ["-e", FILE_SERVER, certs.certificate, certs.key], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const port = await new Promise<string>((resolve) =>
      files.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim())),
    );
    fileUrl = `https://127.0.0.2:${port}/note.txt`;
    execFileSync("mkdir", ["-p", context]);
    writeFileSync(join(context, "hello.txt"), "hello\n");
  });
  afterAll(async () => {
    await registry?.stop();
    files?.kill();
    work.cleanup();
  });

  it("pushes to and pulls from an HTTPS registry whose CA only NODE_EXTRA_CA_CERTS names", () => {
    const root = join(work.path, "store-a");
    writeFileSync(join(context, "Dockerfile"), "FROM scratch\nCOPY hello.txt /\n");
    expect(tsbuild(["build", "-t", "app:1", context], { root }).code).toBe(0);
    const ref = `${registry.host}/team/app:1`;

    const refused = tsbuild(["push", "app:1", ref], { root, env: withoutCa });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/certificate/i);

    const pushed = tsbuild(["push", "app:1", ref], { root, env: withCa() });
    expect(pushed.stderr).toBe("");
    expect(pushed.code).toBe(0);

    const fresh = join(work.path, "store-b");
    const pulled = tsbuild(["pull", ref], { root: fresh, env: withCa() });
    expect(pulled.code, pulled.stderr).toBe(0);
    const digestOf = (r: string, name: string) =>
      (JSON.parse(tsbuild(["inspect", name], { root: r }).stdout) as { digest: string }).digest;
    expect(digestOf(fresh, ref)).toBe(digestOf(root, "app:1"));
  });

  it("ADD <https url> trusts the same CA, and fails naming the certificate problem without it", () => {
    const root = join(work.path, "store-c");
    writeFileSync(join(context, "Dockerfile"), `FROM scratch\nADD ${fileUrl} /note.txt\n`);
    const refused = tsbuild(["build", "-t", "add:1", context], { root, env: withoutCa });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`ADD ${fileUrl}: download failed:`);
    expect(refused.stderr).toMatch(/certificate/i);

    const archive = join(work.path, "add.tar");
    const built = tsbuild(["build", "-t", "add:1", "-o", `type=oci,dest=${archive}`, context], {
      root,
      env: withCa(),
    });
    expect(built.code, built.stderr).toBe(0);
    const rootfs = unpack(archive, work.path, "add");
    expect(readFileSync(join(rootfs, "note.txt"), "utf8")).toBe("served over https\n");
  });

  it("warns about an unreadable CA file and still refuses the unknown CA", () => {
    const root = join(work.path, "store-d");
    const r = tsbuild(["pull", `${registry.host}/team/app:1`], {
      root,
      env: { NODE_EXTRA_CA_CERTS: join(work.path, "missing.pem") },
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`ignoring extra CA certificates from ${join(work.path, "missing.pem")}`);
  });

  it("pemCertificates takes each certificate of a bundle", () => {
    const one = readFileSync(certs.ca, "utf8");
    expect(pemCertificates(`junk\n${one}\n# comment\n${one}`)).toHaveLength(2);
    expect(pemCertificates("no certificates")).toEqual([]);
  });
});
