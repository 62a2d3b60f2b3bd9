// RUN --mount=type=ssh against a real ssh-agent: the command lists the agent's keys through a proxy
// socket (a static C client, fixtures/agent-list.c, asks the agent for its identities), the agent's
// own socket stays outside, and the step's key does not depend on which agent served it.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stepOutcomes, tempDir, tsbuild } from "../../helpers/tsbuild.js";
import { BUSYBOX_BASE, build, unpack, writeFiles } from "./helpers.js";

const DOCKERFILE = `${BUSYBOX_BASE}
FROM base
COPY agent-list /bin/agent-list
RUN --mount=type=ssh agent-list > /keys && echo "$SSH_AUTH_SOCK" > /sockpath && stat -c '%a %u' "$SSH_AUTH_SOCK" > /sockstat
RUN mkdir -m 0777 /shared
USER 1000
RUN --mount=type=ssh,id=deploy,target=/home/agent.sock,uid=1000,mode=0600 agent-list > /shared/keys-1000
`;

/** An ssh-agent in the foreground on `socket`, holding one fresh ed25519 key. */
async function startAgent(dir: string, name: string): Promise<{ socket: string; child: ChildProcess }> {
  const socket = join(dir, `${name}.sock`);
  const child = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
  for (let i = 0; !existsSync(socket); i++) {
    if (i > 200) throw new Error("ssh-agent did not start");
    await sleep(10);
  }
  const key = join(dir, `${name}.key`);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
  execFileSync("ssh-add", [key], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: "ignore" });
  return { socket, child };
}

describe("RUN --mount=type=ssh", () => {
  const store = tempDir("fe-ssh-store");
  const work = tempDir("fe-ssh-work");
  const ctx = join(work.path, "ctx");
  const agents: ChildProcess[] = [];
  let one: string;
  let two: string;

  beforeAll(async () => {
    writeFiles(ctx, { Dockerfile: DOCKERFILE });
    execFileSync("gcc", [
      "-static",
      "-O2",
      "-o",
      join(ctx, "agent-list"),
      join(import.meta.dirname, "fixtures/agent-list.c"),
    ]);
    const a = await startAgent(work.path, "one");
    const b = await startAgent(work.path, "two");
    agents.push(a.child, b.child);
    one = a.socket;
    two = b.socket;
  });
  afterAll(() => {
    for (const a of agents) a.kill();
    store.cleanup();
    work.cleanup();
  });

  it("reaches the agent through a socket of the mount's own target, mode and owner", () => {
    const archive = join(work.path, "1.tar");
    const r = build(store.path, ctx, [
      "-t",
      "ssh:1",
      "--ssh",
      `default=${one}`,
      "--ssh",
      `deploy=${two}`,
      "-o",
      `type=oci,dest=${archive}`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const rootfs = unpack(archive, work.path, "one");
    const file = (p: string) => readFileSync(join(rootfs, p), "utf8");
    expect(file("keys")).toBe("keys 1\n");
    expect(file("sockpath")).toBe("/run/buildkit/ssh_agent.0\n");
    expect(file("sockstat")).toBe("600 0\n");
    expect(file("shared/keys-1000")).toBe("keys 1\n");
    // Neither the socket nor its mountpoint reached a layer.
    expect(existsSync(join(rootfs, "run/buildkit"))).toBe(false);
    expect(existsSync(join(rootfs, "home/agent.sock"))).toBe(false);
  });

  it("hits the cache with another agent: the socket is not part of the step", () => {
    const r = build(store.path, ctx, ["-t", "ssh:1", "--ssh", `default=${two}`, "--ssh", `deploy=${one}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(
      stepOutcomes(r.stderr)
        .filter((s) => s.name.includes("--mount=type=ssh"))
        .map((s) => s.outcome),
    ).toEqual(["CACHED", "CACHED"]);
  });

  it("leaves an optional mount out without --ssh, and fails a required one naming it", () => {
    writeFiles(ctx, {
      Dockerfile: `${BUSYBOX_BASE}\nFROM base\nRUN --mount=type=ssh echo "[$SSH_AUTH_SOCK]" > /sock\n`,
    });
    const archive = join(work.path, "2.tar");
    const r = build(store.path, ctx, ["-t", "ssh:2", "-o", `type=oci,dest=${archive}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(unpack(archive, work.path, "two"), "sock"), "utf8")).toBe("[]\n");

    writeFiles(ctx, { Dockerfile: `${BUSYBOX_BASE}\nFROM base\nRUN --mount=type=ssh,required=true true\n` });
    const missing = build(store.path, ctx, ["-t", "ssh:3"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/Dockerfile:\d+:.*ssh default: required, but no --ssh default was given/);
  });

  it("rejects --ssh without an agent socket", () => {
    const noAgent = tsbuild(["build", "-t", "ssh:4", "--ssh", "default", ctx], {
      root: store.path,
      env: { SSH_AUTH_SOCK: "" },
    });
    expect(noAgent.code).toBe(2);
    expect(noAgent.stderr).toContain("--ssh default: SSH_AUTH_SOCK is not set");
    const keyFile = build(store.path, ctx, ["-t", "ssh:4", "--ssh", `default=${join(work.path, "one.key")}`]);
    expect(keyFile.code).toBe(2);
    expect(keyFile.stderr).toContain("is not a socket (key files are not supported");
  });
});
