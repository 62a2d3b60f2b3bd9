// RUN --mount (cache, secret, bind, tmpfs) and --network=none, through real builds.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leftoverMounts, stepOutcomes, tempDir, tsbuild } from "../../helpers/tsbuild.js";
import { BUSYBOX_BASE, allBlobBytes, build, inspect, unpack, writeFiles } from "./helpers.js";

const SECRET = "s3cr3t-value-9f2c7a";

const DOCKERFILE = `${BUSYBOX_BASE}
FROM base AS other
RUN mkdir /o && echo from-other > /o/f

FROM base
ARG RUNID=1
RUN --mount=type=cache,target=/var/cache/app,id=appcache echo "run $RUNID" >> /var/cache/app/log && cp /var/cache/app/log /cachelog
RUN --mount=type=cache,target=/locked,sharing=locked,mode=0700,uid=7 stat -c '%a %u' /locked > /lockedstat
RUN --mount=type=secret,id=tok cat /run/secrets/tok | wc -c > /secretlen && stat -c '%a' /run/secrets/tok > /secretmode
RUN --mount=type=secret,id=tok,env=TOK echo -n "$TOK" | md5sum > /secretenv
RUN --mount=type=bind,from=other,source=/o,target=/mnt cp /mnt/f /fromother && (touch /mnt/x 2>/dev/null && echo rw || echo ro) > /bindro
RUN --mount=type=bind,source=data,target=/ctx,rw echo new > /ctx/added && ls /ctx > /ctxls
RUN --mount=type=tmpfs,target=/scratch,size=1m echo t > /scratch/t && grep -c /scratch /proc/mounts > /tmpfsmounts
RUN --network=none ls /sys/class/net > /nets
RUN ls /sys/class/net | grep -vc '^lo$' > /hostnets || true
`;

describe("RUN --mount and --network", () => {
  const store = tempDir("fe-mounts-store");
  const work = tempDir("fe-mounts-work");
  const ctx = join(work.path, "ctx");
  const secretFile = join(work.path, "secret");
  let first: ReturnType<typeof build>;
  let rootfs: string;

  beforeAll(() => {
    writeFiles(ctx, { Dockerfile: DOCKERFILE, "data/a.txt": "a\n" });
    writeFiles(work.path, { secret: SECRET });
    first = build(store.path, ctx, [
      "-t",
      "mounts:1",
      "--secret",
      `id=tok,src=${secretFile}`,
      "-o",
      `type=oci,dest=${work.path}/1.tar`,
    ]);
    rootfs = unpack(`${work.path}/1.tar`, work.path, "one");
  });
  afterAll(() => {
    store.cleanup();
    work.cleanup();
  });

  const file = (p: string) => readFileSync(join(rootfs, p), "utf8");

  it("builds", () => {
    expect(first.stderr).not.toMatch(/^error/m);
    expect(first.code).toBe(0);
  });

  it("mounts a secret file read-only with mode 0400 and as an env var", () => {
    expect(file("secretlen").trim()).toBe(String(SECRET.length));
    expect(file("secretmode").trim()).toBe("400");
    // A digest of the value proves it arrived without writing the value itself anywhere.
    expect(file("secretenv").split(" ")[0]).toBe(createHash("md5").update(SECRET).digest("hex"));
  });

  it("never puts the secret value in a layer, the config, the history or the cache records", () => {
    for (const blob of allBlobBytes(store.path)) expect(blob.includes(SECRET)).toBe(false);
    const img = inspect(store.path, "mounts:1");
    expect(JSON.stringify(img)).not.toContain(SECRET);
    expect(JSON.stringify(img.config.config.Env)).not.toContain("TOK");
    const records = tsbuild(["verify"], { root: store.path });
    expect(records.stdout + records.stderr).not.toContain(SECRET);
  });

  it("binds a stage read-only and a context dir with throwaway writes", () => {
    expect(file("fromother")).toBe("from-other\n");
    expect(file("bindro").trim()).toBe("ro");
    expect(file("ctxls").split("\n").filter(Boolean)).toEqual(["a.txt", "added"]);
    expect(existsSync(join(ctx, "data", "added"))).toBe(false);
  });

  it("mounts a tmpfs and a cache dir with the asked mode and owner", () => {
    expect(file("tmpfsmounts").trim()).toBe("1");
    expect(file("lockedstat").trim()).toBe("700 7");
  });

  it("gives --network=none only lo", () => {
    expect(file("nets").split("\n").filter(Boolean)).toEqual(["lo"]);
    expect(Number(file("hostnets").trim())).toBeGreaterThan(0);
  });

  it("leaves no mountpoint in the image and no mount on the host", () => {
    for (const p of ["run", "var", "mnt", "ctx", "scratch", "locked"])
      expect(existsSync(join(rootfs, p))).toBe(false);
    expect(leftoverMounts(store.path)).toEqual([]);
  });

  it("keeps a cache mount's contents across builds", () => {
    const second = build(store.path, ctx, [
      "-t",
      "mounts:2",
      "--build-arg",
      "RUNID=2",
      "--secret",
      `id=tok,src=${secretFile}`,
      "-o",
      `type=oci,dest=${work.path}/2.tar`,
    ]);
    expect(second.code).toBe(0);
    const again = unpack(`${work.path}/2.tar`, work.path, "two");
    expect(readFileSync(join(again, "cachelog"), "utf8")).toBe("run 1\nrun 2\n");
  });

  it("caches a secret step by id, not by value", () => {
    writeFiles(work.path, { secret: "another-value-of-equal-len" });
    const third = build(store.path, ctx, ["-t", "mounts:3", "--secret", `id=tok,src=${secretFile}`]);
    expect(third.code).toBe(0);
    const secretStep = stepOutcomes(third.stderr).find((s) => s.name.includes("secretlen"));
    expect(secretStep?.outcome).toBe("CACHED");
  });

  it("fails a required secret that was not given, naming it", () => {
    writeFiles(ctx, {
      "req/Dockerfile": `${BUSYBOX_BASE}RUN --mount=type=secret,id=missing,required true\n`,
    });
    const r = build(store.path, join(ctx, "req"));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/secret missing: required/);
  });
});
