// ADD <http(s) URL>: downloaded (never extracted), verified against --checksum when given. The file
// lands in a private temp dir; the caller copies it into the rootfs and removes the dir.
import { createHash } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BuildStepError } from "../../../src/errors.js";
import { type HttpResponse, httpRequest } from "../../../src/http/client.js";
import type { Digest } from "../../../src/oci/types.js";

export function isRemoteUrl(src: string): boolean {
  return /^https?:\/\//i.test(src);
}

export interface Download {
  url: string;
  path: string;
  digest: Digest;
  /** The file name ADD gives it inside a directory destination: the URL path's last component. */
  name: string;
  /** From Last-Modified, seconds; undefined when the server sent none. */
  mtime?: number;
  remove(): void;
}

/** The last component of the URL's path, as BuildKit names downloads; "__unnamed__" when there is none. */
export function urlFileName(url: string): string {
  const base = posix.basename(decodeURIComponent(new URL(url).pathname));
  return base === "" || base === "/" || base === "." ? "__unnamed__" : base;
}

/** `--checksum=sha256:<hex>` checked for shape (BuildKit accepts only sha256 digests for URLs). */
export function parseChecksum(value: string, url: string): Digest {
  if (!/^sha256:[0-9a-f]{64}$/.test(value)) {
    throw new BuildStepError(`ADD ${url}: invalid --checksum=${value}: expected sha256:<64 hex digits>`);
  }
  return value as Digest;
}

export async function download(
  url: string,
  signal: AbortSignal,
  expected?: Digest,
  onWarning?: (message: string) => void,
): Promise<Download> {
  let res: HttpResponse;
  try {
    res = await httpRequest(url, { signal, onWarning });
  } catch (err) {
    throw new BuildStepError(`ADD ${url}: download failed: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
  if (!res.ok) {
    await res.discard();
    throw new BuildStepError(`ADD ${url}: download failed: HTTP ${res.status} ${res.statusText}`);
  }
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-add-"));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const path = join(dir, "download");
  const hash = createHash("sha256");
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(res.body, tap, createWriteStream(path, { mode: 0o600 }));
  } catch (err) {
    remove();
    throw new BuildStepError(`ADD ${url}: download failed: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
  const digest: Digest = `sha256:${hash.digest("hex")}`;
  if (expected && digest !== expected) {
    remove();
    throw new BuildStepError(
      `ADD ${url}: checksum mismatch: --checksum=${expected}, but the download is ${digest}`,
    );
  }
  const lm = res.headers.get("last-modified");
  const mtime = lm ? Math.floor(Date.parse(lm) / 1000) : undefined;
  return {
    url,
    path,
    digest,
    name: urlFileName(url),
    mtime: Number.isFinite(mtime) ? mtime : undefined,
    remove,
  };
}
