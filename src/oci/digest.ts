import { createHash } from "node:crypto";
import type { Digest } from "./types.js";

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export function sha256(data: string | Buffer): Digest {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

/** The hex part of a digest, checked, so it is safe to use as a file name. */
export function digestHex(d: Digest): string {
  if (!DIGEST_RE.test(d)) throw new Error(`invalid digest ${JSON.stringify(d)}`);
  return d.slice(7);
}
