// The image config we write equals buildah's for the same Dockerfile, field by field (buildah 1.28
// from Debian, private storage, chroot isolation, docker format: its OCI format drops Healthcheck).
import { spawnSync } from "node:child_process";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../helpers/tsbuild.js";
import { build, inspect, sh, writeFiles } from "./helpers.js";

const DOCKERFILE = `FROM scratch
COPY busybox /bin/busybox
ENV APP_HOME=/srv/app MODE=prod
ENV PATH=/custom/bin:$PATH
WORKDIR /srv/app
USER 1000:1000
EXPOSE 8080 53/udp
VOLUME ["/data", "/logs"]
LABEL org.example.name="cmp" version=1
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=10s --timeout=3s --retries=2 CMD ["/bin/busybox", "true"]
ENTRYPOINT ["/bin/busybox"]
CMD ["sh", "-c", "echo hi"]
`;

const FIELDS = [
  "Env",
  "Cmd",
  "Entrypoint",
  "WorkingDir",
  "User",
  "ExposedPorts",
  "Volumes",
  "Labels",
  "StopSignal",
  "Healthcheck",
];
const haveBuildah = spawnSync("buildah", ["--version"]).status === 0;
if (!haveBuildah) console.log("buildah-compare: skipped, buildah is not installed (apt-get install buildah)");

describe.skipIf(!haveBuildah)("image config equals buildah's", () => {
  const store = tempDir("fe-buildah-store");
  const work = tempDir("fe-buildah-work");
  const ctx = join(work.path, "ctx");
  const storage = [
    "--root",
    join(work.path, "root"),
    "--runroot",
    join(work.path, "runroot"),
    "--storage-driver",
    "vfs",
  ];
  let ours: Record<string, unknown>;
  let theirs: Record<string, unknown>;

  beforeAll(() => {
    writeFiles(ctx, { Dockerfile: DOCKERFILE });
    copyFileSync("/bin/busybox", join(ctx, "busybox"));
    sh("buildah", [
      ...storage,
      "bud",
      "--format",
      "docker",
      "--isolation",
      "chroot",
      "-q",
      "-t",
      "cmp:1",
      ctx,
    ]);
    const inspected = JSON.parse(sh("buildah", [...storage, "inspect", "--type", "image", "cmp:1"]));
    theirs = inspected.Docker.config;
    // buildah stamps its own version label; not part of the Dockerfile's config.
    delete (theirs.Labels as Record<string, string>)["io.buildah.version"];
    const r = build(store.path, ctx, ["-t", "cmp:1"]);
    if (r.code !== 0) throw new Error(r.stderr);
    ours = inspect(store.path, "cmp:1").config.config;
  }, 120_000);
  afterAll(() => {
    spawnSync("buildah", [...storage, "rmi", "--all", "--force"]);
    // vfs layers are plain dirs; the temp dir goes with them.
    store.cleanup();
    work.cleanup();
  });

  for (const field of FIELDS) {
    it(field, () => {
      expect(ours[field]).toEqual(theirs[field]);
    });
  }
});
