// Proxies, as BuildKit and buildah treat them (issue 11): the proxy build args reach RUN without an
// ARG line and stay out of the cache key and the history; the registry client and ADD <url> go
// through HTTP(S)_PROXY and honour NO_PROXY. The proxy is real (test/helpers/proxy.ts) and the only
// resolver of the ".test" names used here, so getting through proves the proxy was used.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCertificates } from "../../helpers/certs.js";
import { type RunningProxy, startProxy } from "../../helpers/proxy.js";
import { type RunningRegistry, startRegistry } from "../../helpers/registry.js";
import { tempDir, tsbuild } from "../../helpers/tsbuild.js";
import { BASE_STAGE, BUSYBOX, rebuilt } from "../cache/helpers.js";
import { unpack } from "../frontend/helpers.js";

/** A plain HTTP file server on 127.0.0.1 answering every path with one line; prints its port. */
const FILE_SERVER = `
const server = require("node:http").createServer((req, res) => res.end("fetched " + req.url + "\\n"));
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`;

const NO_PROXY_ENV = {
  HTTP_PROXY: "",
  HTTPS_PROXY: "",
  NO_PROXY: "",
  http_proxy: "",
  https_proxy: "",
  no_proxy: "",
};

describe("proxy build args", () => {
  const store = tempDir("proxy-args-store");
  const work = tempDir("proxy-args-work");
  const ctx = join(work.path, "ctx");
  const build = (...args: string[]) => {
    const r = tsbuild(["build", "-t", "proxied:1", ...BUSYBOX, "--progress", "plain", ...args, ctx], {
      root: store.path,
    });
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  const config = () =>
    JSON.parse(tsbuild(["inspect", "proxied:1"], { root: store.path }).stdout).config as {
      config: { Env?: string[] };
      history: { created_by: string }[];
    };
  const fileOf = (name: string) => {
    const archive = join(work.path, `${name}.tar`);
    build("-o", `type=oci,dest=${archive}`);
    return readFileSync(join(unpack(archive, work.path, name), "proxy.txt"), "utf8");
  };

  beforeAll(() => {
    mkdirSync(ctx, { recursive: true });
    writeFileSync(
      join(ctx, "Dockerfile"),
      `${BASE_STAGE}\nFROM base\nRUN echo "$HTTP_PROXY|$https_proxy|$NO_PROXY" > /proxy.txt\n`,
    );
  });
  afterAll(() => {
    store.cleanup();
    work.cleanup();
  });

  it("reach RUN without an ARG line, and are in neither the config nor the history", () => {
    build("--build-arg", "HTTP_PROXY=http://p1:3128", "--build-arg", "https_proxy=http://p2:3128");
    expect(fileOf("first")).toBe("http://p1:3128|http://p2:3128|\n");
    const c = config();
    expect(JSON.stringify(c)).not.toContain("p1:3128");
    expect(c.history.map((h) => h.created_by)).toContain(
      'RUN echo "$HTTP_PROXY|$https_proxy|$NO_PROXY" > /proxy.txt',
    );
  });

  it("changing a proxy arg hits the cache (the value is not a key input)", () => {
    const r = build("--build-arg", "HTTP_PROXY=http://other:8080", "--build-arg", "NO_PROXY=internal");
    expect(rebuilt(r.stderr)).toEqual([]);
  });

  it("declared with ARG, a proxy arg is an ordinary build arg: keyed", () => {
    writeFileSync(
      join(ctx, "Dockerfile"),
      `${BASE_STAGE}\nFROM base\nARG HTTP_PROXY\nRUN echo "declared $HTTP_PROXY" > /proxy.txt\n`,
    );
    build("--build-arg", "HTTP_PROXY=http://a:1");
    const r = build("--build-arg", "HTTP_PROXY=http://b:2");
    expect(rebuilt(r.stderr)).toEqual(['RUN echo "declared $HTTP_PROXY" > /proxy.txt']);
  });
});

describe("the HTTP client through HTTP(S)_PROXY", () => {
  const work = tempDir("proxy-client");
  let certs: ReturnType<typeof makeCertificates>;
  let registry: RunningRegistry;
  let proxy: RunningProxy;
  let files: ChildProcess;
  const context = join(work.path, "context");
  const regName = () => `registry.proxy.test:${registry.port}`;

  beforeAll(async () => {
    certs = makeCertificates(work.path, ["IP:127.0.0.2", "DNS:registry.proxy.test"]);
    registry = await startRegistry({ tls: certs });
    files = spawn(process.execPath, ["-e", FILE_SERVER], { stdio: ["ignore", "pipe", "inherit"] });
    const filePort = await new Promise<string>((resolve) =>
      files.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim())),
    );
    proxy = await startProxy({
      [`registry.proxy.test:${registry.port}`]: registry.host,
      "files.proxy.test:80": `127.0.0.1:${filePort}`,
    });
    mkdirSync(context, { recursive: true });
    writeFileSync(join(context, "hello.txt"), "hello\n");
    writeFileSync(join(context, "Dockerfile"), "FROM scratch\nCOPY hello.txt /\n");
    // The image the pulls below fetch, pushed to the registry directly.
    const root = join(work.path, "store-src");
    expect(tsbuild(["build", "-t", "app:1", context], { root }).code).toBe(0);
    const pushed = tsbuild(["push", "app:1", `${registry.host}/team/app:1`], {
      root,
      env: { ...NO_PROXY_ENV, NODE_EXTRA_CA_CERTS: certs.ca },
    });
    expect(pushed.code, pushed.stderr).toBe(0);
  });
  afterAll(async () => {
    await registry?.stop();
    proxy?.stop();
    files?.kill();
    work.cleanup();
  });

  it("pulls over HTTPS through HTTPS_PROXY's CONNECT tunnel, with the proxy's credentials", async () => {
    const env = {
      ...NO_PROXY_ENV,
      NODE_EXTRA_CA_CERTS: certs.ca,
      HTTPS_PROXY: proxy.url.replace("http://", "http://ci:s3cret@"),
    };
    const r = tsbuild(["pull", `${regName()}/team/app:1`], { root: join(work.path, "store-a"), env });
    expect(r.code, r.stderr).toBe(0);
    const tunnels = (await proxy.seen()).filter((s) => s.kind === "connect");
    expect(tunnels.map((s) => s.host)).toContain(regName());
    expect(tunnels[0]!.auth).toBe(`Basic ${Buffer.from("ci:s3cret").toString("base64")}`);
  });

  it("ADD http://… goes through HTTP_PROXY (lower case too)", () => {
    writeFileSync(
      join(context, "Dockerfile"),
      "FROM scratch\nADD http://files.proxy.test/note.txt /note.txt\n",
    );
    const archive = join(work.path, "add.tar");
    const r = tsbuild(["build", "-t", "add:1", "-o", `type=oci,dest=${archive}`, context], {
      root: join(work.path, "store-b"),
      env: { ...NO_PROXY_ENV, http_proxy: proxy.url },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(unpack(archive, work.path, "add"), "note.txt"), "utf8")).toBe(
      "fetched /note.txt\n",
    );
  });

  it("NO_PROXY sends a matching host direct (which cannot resolve it: the ADD fails)", async () => {
    const before = (await proxy.seen()).length;
    writeFileSync(join(context, "Dockerfile"), "FROM scratch\nADD http://files.proxy.test/again.txt /a\n");
    const r = tsbuild(["build", "--no-cache", context], {
      root: join(work.path, "store-c"),
      env: { ...NO_PROXY_ENV, HTTP_PROXY: proxy.url, NO_PROXY: "example.com,.proxy.test" },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ADD http://files.proxy.test/again.txt");
    expect((await proxy.seen()).length).toBe(before);
  });

  it("loopback registries are never proxied", async () => {
    const before = (await proxy.seen()).length;
    const r = tsbuild(["pull", `${registry.host}/team/app:1`], {
      root: join(work.path, "store-d"),
      env: { ...NO_PROXY_ENV, NODE_EXTRA_CA_CERTS: certs.ca, HTTPS_PROXY: proxy.url },
    });
    expect(r.code, r.stderr).toBe(0);
    expect((await proxy.seen()).length).toBe(before);
  });
});
