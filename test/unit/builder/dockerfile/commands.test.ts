import { describe, expect, it } from "vitest";
import { commands, only, stages } from "./helpers.js";

describe("typed commands", () => {
  it("RUN shell and exec form, mounts and network", () => {
    expect(only("RUN echo hi", "RUN")).toMatchObject({ args: ["echo hi"], shellForm: true, mounts: [] });
    expect(only('RUN ["echo", "hi"]', "RUN")).toMatchObject({ args: ["echo", "hi"], shellForm: false });
    const run = only(
      "RUN --network=none --mount=type=cache,target=/root/.cache,sharing=locked,id=pip --mount=type=secret,id=tok --mount=target=/src,from=build,ro make",
      "RUN",
    );
    expect(run.network).toBe("none");
    expect(run.mounts).toEqual([
      { type: "cache", target: "/root/.cache", sharing: "locked", id: "pip" },
      { type: "secret", id: "tok", target: "/run/secrets/tok" },
      { type: "bind", target: "/src", from: "build", readonly: true },
    ]);
    expect(
      only(
        "RUN --mount=type=tmpfs,target=/t,size=64m --mount=type=cache,target=/c,mode=0755,uid=1,gid=2 x",
        "RUN",
      ).mounts,
    ).toEqual([
      { type: "tmpfs", target: "/t", size: 64 * 1024 * 1024 },
      { type: "cache", target: "/c", id: "/c", mode: 0o755, uid: 1, gid: 2 },
    ]);
    expect(only("RUN --mount=type=ssh x", "RUN").mounts).toEqual([{ type: "ssh", id: "default" }]);
  });

  it("CMD, ENTRYPOINT and SHELL", () => {
    expect(only('CMD ["a", "b"]', "CMD")).toMatchObject({ args: ["a", "b"], shellForm: false });
    expect(only("ENTRYPOINT run it", "ENTRYPOINT")).toMatchObject({ args: ["run it"], shellForm: true });
    expect(only('SHELL ["/bin/bash", "-c"]', "SHELL").args).toEqual(["/bin/bash", "-c"]);
  });

  it("ENV and LABEL in both forms keep values unexpanded", () => {
    expect(only('ENV A=1 B="two words" C=$A', "ENV").pairs).toEqual([
      { key: "A", value: "1" },
      { key: "B", value: '"two words"' },
      { key: "C", value: "$A" },
    ]);
    expect(only("ENV PATH /usr/bin:$PATH", "ENV").pairs).toEqual([{ key: "PATH", value: "/usr/bin:$PATH" }]);
    expect(only('LABEL org.x="a b" y=z', "LABEL").pairs).toEqual([
      { key: "org.x", value: '"a b"' },
      { key: "y", value: "z" },
    ]);
  });

  it("ARG with and without defaults", () => {
    expect(only('ARG A B=2 C="x y"', "ARG").args).toEqual([
      { key: "A" },
      { key: "B", value: "2" },
      { key: "C", value: '"x y"' },
    ]);
  });

  it("COPY and ADD with every flag", () => {
    const copy = only(
      "COPY --from=build --chown=1:2 --chmod=0644 --link --parents --exclude=*.md --exclude=tmp a b /dst/",
      "COPY",
    );
    expect(copy).toMatchObject({
      sources: ["a", "b"],
      dest: "/dst/",
      from: "build",
      chown: "1:2",
      chmod: "0644",
      link: true,
      parents: true,
      exclude: ["*.md", "tmp"],
      heredocs: [],
    });
    expect(only('COPY ["a b", "/c"]', "COPY")).toMatchObject({ sources: ["a b"], dest: "/c" });
    expect(only("COPY --link=false --chmod=u+x,g=r a /b", "COPY")).toMatchObject({
      link: false,
      chmod: "u+x,g=r",
    });
    const add = only("ADD --checksum=sha256:abc --keep-git-dir=true https://x/y.git /src", "ADD");
    expect(add).toMatchObject({ checksum: "sha256:abc", keepGitDir: true, sources: ["https://x/y.git"] });
  });

  it("WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL, MAINTAINER", () => {
    const cmds = commands(
      'WORKDIR /a b\nUSER app:app\nEXPOSE 80 443/tcp\nVOLUME ["/v1", "/v2"]\nVOLUME /w /x\nSTOPSIGNAL SIGTERM\nMAINTAINER Me <me@x>\n',
    );
    expect(cmds).toMatchObject([
      { kind: "WORKDIR", path: "/a b" },
      { kind: "USER", user: "app:app" },
      { kind: "EXPOSE", ports: ["80", "443/tcp"] },
      { kind: "VOLUME", paths: ["/v1", "/v2"] },
      { kind: "VOLUME", paths: ["/w", "/x"] },
      { kind: "STOPSIGNAL", signal: "SIGTERM" },
      { kind: "MAINTAINER", name: "Me <me@x>" },
    ]);
  });

  it("HEALTHCHECK NONE, CMD and Go durations in nanoseconds", () => {
    expect(only("HEALTHCHECK NONE", "HEALTHCHECK")).toMatchObject({ test: null });
    const hc = only(
      "HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=1.5h --start-interval=2s --retries=3 CMD curl -f http://x/",
      "HEALTHCHECK",
    );
    expect(hc).toMatchObject({
      test: ["curl -f http://x/"],
      shellForm: true,
      interval: 90e9,
      timeout: 500e6,
      startPeriod: 5400e9,
      startInterval: 2e9,
      retries: 3,
    });
    expect(only('HEALTHCHECK --interval=0s CMD ["true"]', "HEALTHCHECK")).toMatchObject({
      test: ["true"],
      shellForm: false,
      interval: 0,
    });
  });

  it("ONBUILD keeps the trigger text", () => {
    expect(only("ONBUILD RUN make  all", "ONBUILD").expression).toBe("RUN make  all");
  });

  it("records locations with the keyword column", () => {
    const [run] = commands("  RUN a \\\n  b\n");
    expect(run!.location).toEqual({ file: "Dockerfile", startLine: 2, endLine: 3, column: 3 });
    expect(run!.original).toBe("RUN a   b");
  });
});

describe("FROM and meta ARGs", () => {
  it("expands FROM with meta ARGs and build args, names and platforms", () => {
    const set = stages(
      "ARG REG=docker.io\nARG TAG\nARG IMG=${REG}/lib/alpine\nFROM --platform=$BUILDPLATFORM ${IMG}:${TAG:-latest} AS Build\nFROM build\n",
      { TAG: "3.20", BUILDPLATFORM: "linux/amd64", UNDECLARED: "x" },
    );
    expect(set.metaArgs).toHaveLength(3);
    expect(set.stages[0]).toMatchObject({
      index: 0,
      name: "build",
      baseName: "docker.io/lib/alpine:3.20",
      platform: "linux/amd64",
      location: { startLine: 4, endLine: 4 },
    });
    expect(set.stages[1]).toMatchObject({ index: 1, baseName: "build" });
    expect(set.stages[1]!.name).toBeUndefined();
  });

  it("build args do not leak into FROM unless declared", () => {
    expect(stages("FROM img:${V:-d}\n", { V: "x" }).stages[0]!.baseName).toBe("img:d");
    expect(stages("ARG V\nFROM img:${V:-d}\n", { V: "x" }).stages[0]!.baseName).toBe("img:x");
  });
});
