// A three-stage build (base ← builder, base + COPY --from=builder ← final) and helpers to read images.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { stepOutcomes, tsbuild } from "../../../helpers/tsbuild.js";

export const DOCKERFILE = `FROM scratch AS base
COPY --from=busybox-bin busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]

FROM base AS builder
WORKDIR /src
COPY src/ /src/
RUN cat /src/a.txt /src/b.txt > /out.txt && echo built >> /out.txt

FROM base AS final
COPY --from=builder /out.txt /app/out.txt
COPY app.txt /app/app.txt
RUN echo final > /app/done && head -c 32768 /dev/urandom > /app/noise
`;

export function writeContext(dir: string): void {
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(join(dir, "Dockerfile"), DOCKERFILE);
  writeFileSync(join(dir, "src", "a.txt"), "a\n");
  writeFileSync(join(dir, "src", "b.txt"), "b\n");
  writeFileSync(join(dir, "app.txt"), "app\n");
}

export function copyContext(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
}

/** Runs a build on the store at `root`, expecting success; returns stderr and the step outcomes. */
export function build(root: string, context: string, extra: string[]) {
  const r = tsbuild(
    ["build", "--build-context", "busybox-bin=/bin", "--progress", "plain", ...extra, context],
    { root },
  );
  if (r.code !== 0) throw new Error(`build failed (${r.code}):\n${r.stderr}`);
  return { stderr: r.stderr, steps: stepOutcomes(r.stderr) };
}

export function imageDigest(root: string, name: string): string {
  const r = tsbuild(["inspect", name], { root });
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout).descriptor.digest as string;
}

/** The layer digests of a stored image, bottom first. */
export function imageLayers(root: string, name: string): string[] {
  const digest = imageDigest(root, name);
  const manifest = JSON.parse(readFileSync(join(root, "blobs", "sha256", digest.slice(7)), "utf8"));
  return (manifest.layers as { digest: string }[]).map((l) => l.digest);
}

export function hasBlob(root: string, digest: string): boolean {
  try {
    readFileSync(join(root, "blobs", "sha256", digest.slice(7)));
    return true;
  } catch {
    return false;
  }
}
