import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eraseCredentials, getCredentials, storeCredentials } from "../../../../src/registry/credentials.js";

describe("Docker config.json credentials", () => {
  let tmp: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), "tsbuild-creds-"));
    // A real credential helper executable on PATH: answers `get` for one server, logs `store`/`erase`.
    const bin = join(tmp, "bin");
    mkdirSync(bin);
    const helper = join(bin, "docker-credential-testhelper");
    writeFileSync(
      helper,
      `#!/bin/sh
read -r input
case "$1" in
  get) if [ "$input" = "helper.example.com" ]; then echo '{"ServerURL":"helper.example.com","Username":"hu","Secret":"hs"}'; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store|erase) echo "$1 $input" >> "${tmp}/helper.log" ;;
esac
`,
    );
    chmodSync(helper, 0o755);
    env = { DOCKER_CONFIG: join(tmp, "docker"), PATH: `${bin}:${process.env.PATH}` };
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("stores base64 user:pass under auths, 0600, and reads it back", async () => {
    await storeCredentials("127.0.0.1:5000", { username: "u", password: "p:w" }, env);
    const path = join(tmp, "docker", "config.json");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const config = JSON.parse(readFileSync(path, "utf8"));
    expect(config.auths["127.0.0.1:5000"].auth).toBe(Buffer.from("u:p:w").toString("base64"));
    expect(await getCredentials("127.0.0.1:5000", env)).toEqual({ username: "u", password: "p:w" });
    expect(await getCredentials("other:1", env)).toBeUndefined();
  });

  it("keys Docker Hub as https://index.docker.io/v1/ and finds URL-form keys", async () => {
    await storeCredentials("docker.io", { username: "hub", password: "x" }, env);
    const config = JSON.parse(readFileSync(join(tmp, "docker", "config.json"), "utf8"));
    expect(Object.keys(config.auths)).toContain("https://index.docker.io/v1/");
    expect(await getCredentials("docker.io", env)).toEqual({ username: "hub", password: "x" });
    expect(await eraseCredentials("docker.io", env)).toBe(true);
    expect(await getCredentials("docker.io", env)).toBeUndefined();
  });

  it("asks credHelpers and credsStore helpers", async () => {
    const path = join(tmp, "docker", "config.json");
    const config = JSON.parse(readFileSync(path, "utf8"));
    config.credHelpers = { "helper.example.com": "testhelper" };
    writeFileSync(path, JSON.stringify(config));
    expect(await getCredentials("helper.example.com", env)).toEqual({ username: "hu", password: "hs" });

    config.credsStore = "testhelper";
    writeFileSync(path, JSON.stringify(config));
    // Not in the helper: falls back to auths.
    expect(await getCredentials("127.0.0.1:5000", env)).toEqual({ username: "u", password: "p:w" });
    await storeCredentials("new.example.com", { username: "n", password: "m" }, env);
    expect(readFileSync(join(tmp, "helper.log"), "utf8")).toContain(
      'store {"ServerURL":"new.example.com","Username":"n","Secret":"m"}',
    );
  });
});
