import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normalizeImageName } from "../../../src/oci/reference.js";
import { pullImage } from "../../../src/registry/pull.js";
import { pushImage } from "../../../src/registry/push.js";
import { openContentStore } from "../../../src/store/content.js";
import { type RunningRegistry, startRegistry } from "../../helpers/registry.js";
import { TSBUILD } from "../../helpers/tsbuild.js";
import { makeImage } from "./fixtures.js";
import { type TokenIssuer, startTokenIssuer } from "./token-issuer.js";

function cli(args: string[], env: NodeJS.ProcessEnv, input?: string) {
  const r = spawnSync(TSBUILD, args, { env: { ...process.env, ...env }, encoding: "utf8", input });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("registry behind htpasswd", () => {
  let registry: RunningRegistry;
  let tmp: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: { alice: "s3cret" } });
    tmp = mkdtempSync(join(tmpdir(), "tsbuild-auth-"));
    env = { TSBUILD_ROOT: join(tmp, "store"), DOCKER_CONFIG: join(tmp, "docker") };
    const store = await openContentStore(join(tmp, "store"));
    await makeImage(store, normalizeImageName("app:1"), [{ files: { a: "1" } }]);
  });
  afterAll(async () => {
    await registry?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("push without credentials fails with a 401 naming the registry", () => {
    const r = cli(["push", "app:1", `${registry.host}/app:1`], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error: push ${registry.host}/app:1: 401 unauthorized (no credentials for ${registry.host})`,
    );
  });

  it("login rejects a wrong password and writes nothing", () => {
    const r = cli(["login", "-u", "alice", "--password-stdin", registry.host], env, "wrong\n");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `login ${registry.host}: 401 unauthorized (credentials for ${registry.host} were rejected)`,
    );
  });

  it("login saves credentials in config.json (0600), then push succeeds; logout removes them", () => {
    const login = cli(["login", "-u", "alice", "--password-stdin", registry.host], env, "s3cret\n");
    expect(login.stderr).toBe("");
    expect(login.code).toBe(0);
    const path = join(tmp, "docker", "config.json");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const config = JSON.parse(readFileSync(path, "utf8")) as { auths: Record<string, { auth: string }> };
    expect(config.auths[registry.host]?.auth).toBe(Buffer.from("alice:s3cret").toString("base64"));

    const push = cli(["push", "app:1", `${registry.host}/app:1`], env);
    expect(push.stderr).toBe("");
    expect(push.code).toBe(0);

    expect(cli(["logout", registry.host], env).code).toBe(0);
    const after = JSON.parse(readFileSync(path, "utf8")) as { auths: Record<string, unknown> };
    expect(after.auths[registry.host]).toBeUndefined();
  });
});

describe("registry with token auth", () => {
  let registry: RunningRegistry;
  let issuer: TokenIssuer;
  let tmp: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "tsbuild-token-"));
    issuer = await startTokenIssuer(tmp, { bob: "pw" });
    registry = await startRegistry({
      token: {
        realm: issuer.realm,
        service: issuer.service,
        issuer: issuer.issuer,
        rootCertBundle: issuer.certPath,
      },
    });
  });
  afterAll(async () => {
    await registry?.stop();
    await issuer?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("fetches one token per scope for a parallel push and a pull", async () => {
    const store = await openContentStore(join(tmp, "a"));
    await makeImage(store, normalizeImageName("tok:1"), [
      { files: { a: "1" } },
      { files: { b: "2" } },
      { files: { c: "3" }, random: 9 << 20 },
    ]);
    const credentials = async () => ({ username: "bob", password: "pw" });
    const dest = `${registry.host}/team/tok:1`;
    const pushed = await pushImage(store, "tok:1", dest, { credentials, chunkSize: 4 << 20 });
    expect(pushed.blobs.filter((b) => b.how === "uploaded")).toHaveLength(4);
    const storeB = await openContentStore(join(tmp, "b"));
    const pulled = await pullImage(storeB, dest, { credentials });
    expect(pulled.target.digest).toBe(pushed.digest);
    expect(Object.fromEntries(issuer.hits)).toEqual({
      "repository:team/tok:pull,push": 1,
      "repository:team/tok:pull": 1,
    });
  });

  it("without credentials the token server's 401 names the registry", async () => {
    const store = await openContentStore(join(tmp, "c"));
    await expect(
      pullImage(store, `${registry.host}/team/tok:1`, { credentials: async () => undefined }),
    ).rejects.toThrow(`pull ${registry.host}/team/tok:1: token server ${issuer.realm}: 401`);
  });
});
