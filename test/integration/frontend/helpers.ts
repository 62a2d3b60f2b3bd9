// Shared by the frontend integration tests: a context with busybox in it, builds, unpacking and config reads.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { type RunResult, tsbuild } from "../../helpers/tsbuild.js";

export const BUSYBOX_BASE = `FROM scratch AS base
COPY --from=busybox-bin busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
`;

export function sh(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: opts.cwd, input: opts.input });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Writes files (path → content) under dir. */
export function writeFiles(dir: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
}

export function build(root: string, ctx: string, args: string[] = []): RunResult {
  return tsbuild(["build", "--build-context", "busybox-bin=/bin", "--progress", "plain", ...args, ctx], {
    root,
  });
}

/** The image's rootfs, unpacked by umoci from an `-o type=oci` archive, at work/<name>/rootfs. */
export function unpack(archive: string, work: string, name: string): string {
  const layout = join(work, `${name}-layout`);
  mkdirSync(layout, { recursive: true });
  sh("tar", ["-xf", archive, "-C", layout]);
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"));
  const ref = index.manifests[0].annotations["org.opencontainers.image.ref.name"];
  const bundle = join(work, `${name}-bundle`);
  sh("umoci", ["unpack", "--image", `${layout}:${ref}`, bundle]);
  return join(bundle, "rootfs");
}

export interface Inspected {
  manifest: { layers: { digest: string }[] };
  config: {
    config: Record<string, unknown> & { Env?: string[]; OnBuild?: string[] };
    history: { created_by: string }[];
  };
}

export function inspect(root: string, name: string): Inspected {
  const r = tsbuild(["inspect", name], { root });
  if (r.code !== 0) throw new Error(`inspect ${name}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Every blob of the store, decompressed when gzip: what a secret must never be found in. */
export function allBlobBytes(root: string): Buffer[] {
  const dir = join(root, "blobs", "sha256");
  return spawnSync("ls", [dir], { encoding: "utf8" })
    .stdout.split("\n")
    .filter(Boolean)
    .map((hex) => {
      const raw = readFileSync(join(dir, hex));
      return raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
    });
}

export function copyBusybox(dir: string): void {
  mkdirSync(dir, { recursive: true });
  copyFileSync("/bin/busybox", join(dir, "busybox"));
}
