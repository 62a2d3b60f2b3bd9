// RUN --mount=type=secret: values come from the CLI (a file or an env var of tsbuild's own process).
// They are read only at run time, written to a private tmpfs file (never to the store), and removed after.
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../../../src/errors.js";

export interface SecretSource {
  /** A host file holding the value. */
  src?: string;
  /** An env var of tsbuild's process holding the value. */
  env?: string;
}

const SECRET_KEYS = new Set(["id", "src", "source", "env", "type"]);

/** Parses one `--secret id=X,src=FILE` / `id=X,env=VAR` (BuildKit's syntax; `source`, `type=file|env` accepted). */
export function parseSecretFlag(spec: string): [string, SecretSource] {
  const fields = new Map<string, string>();
  for (const part of spec.split(",")) {
    const i = part.indexOf("=");
    if (i <= 0) throw new UsageError(`--secret ${spec}: expected id=ID,src=FILE or id=ID,env=VAR`);
    fields.set(part.slice(0, i).trim().toLowerCase(), part.slice(i + 1));
  }
  for (const key of fields.keys()) {
    if (!SECRET_KEYS.has(key))
      throw new UsageError(`--secret ${spec}: unknown key ${key} (expected ${[...SECRET_KEYS].join(", ")})`);
  }
  const id = fields.get("id");
  if (!id) throw new UsageError(`--secret ${spec}: id=ID is required`);
  const src = fields.get("src") ?? fields.get("source");
  const env = fields.get("env");
  const type = fields.get("type");
  if (type !== undefined && type !== "file" && type !== "env") {
    throw new UsageError(`--secret ${spec}: type=${type}: expected file or env`);
  }
  if (src !== undefined && type !== "env") {
    // Checked now, as buildx does when it opens the session: a missing file must not cost the build.
    if (!existsSync(src)) throw new UsageError(`--secret ${spec}: ${src}: no such file`);
    return [id, { src }];
  }
  if (src !== undefined) return [id, { env: src }];
  if (env !== undefined) return [id, { env }];
  // BuildKit: `--secret id=X` alone reads the env var X.
  return [id, { env: id }];
}

/** The secret's bytes, or undefined when it was not given (or its env var is unset). */
export function readSecret(
  sources: Record<string, SecretSource> | undefined,
  id: string,
): Buffer | undefined {
  const s = sources?.[id];
  if (!s) return undefined;
  if (s.src !== undefined) {
    try {
      return readFileSync(s.src);
    } catch (err) {
      throw new UsageError(
        `secret ${id}: cannot read ${s.src}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      );
    }
  }
  const v = s.env !== undefined ? process.env[s.env] : undefined;
  return v === undefined ? undefined : Buffer.from(v);
}

/**
 * Writes a secret to a fresh 0700 dir on tmpfs (/dev/shm when there is one, so it never touches a disk)
 * and returns the file plus a cleanup.
 */
export function secretFile(
  value: Buffer,
  mode: number,
  uid: number,
  gid: number,
): { path: string; remove: () => void } {
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const dir = mkdtempSync(join(base, "tsbuild-secret-"));
  const path = join(dir, randomBytes(4).toString("hex"));
  writeFileSync(path, value, { mode, flag: "wx" });
  try {
    chownSync(path, uid, gid);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
