import { TsbuildError } from "../errors.js";
import { sha256 } from "../oci/digest.js";
import { MANIFEST_ACCEPT, type RegistryClient } from "./client.js";

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

/** GETs a manifest or index by tag or digest, checking its bytes against the digest asked for or announced. */
export async function fetchManifest(
  client: RegistryClient,
  repository: string,
  reference: string,
  scopes: readonly string[],
): Promise<FetchedManifest> {
  const res = await client.request("GET", `/v2/${repository}/manifests/${reference}`, {
    scopes,
    headers: { accept: MANIFEST_ACCEPT },
    expect: [200],
  });
  const bytes = await res.bytes();
  const digest = sha256(bytes);
  const expected = reference.includes(":") ? reference : (res.headers.get("docker-content-digest") ?? digest);
  if (digest !== expected) {
    throw new TsbuildError(`manifest ${reference}: content digest ${digest} does not match ${expected}`);
  }
  let mediaType = res.headers.get("content-type")?.split(";")[0]?.trim() ?? "";
  try {
    const parsed = JSON.parse(bytes.toString("utf8")) as { mediaType?: string };
    // The document's own mediaType is authoritative; servers may send a generic Content-Type.
    if (parsed.mediaType) mediaType = parsed.mediaType;
  } catch {
    throw new TsbuildError(`manifest ${reference}: not JSON`);
  }
  return { bytes, mediaType, digest };
}

/** PUTs a manifest under a tag or digest; the registry answers with the digest it stored. */
export async function putManifest(
  client: RegistryClient,
  repository: string,
  reference: string,
  bytes: Buffer,
  mediaType: string,
  scopes: readonly string[],
): Promise<void> {
  const res = await client.request("PUT", `/v2/${repository}/manifests/${reference}`, {
    scopes,
    headers: { "content-type": mediaType },
    body: bytes,
    expect: [201, 200],
  });
  await res.discard();
  const stored = res.headers.get("docker-content-digest");
  if (stored && stored !== sha256(bytes)) {
    throw new TsbuildError(`manifest ${reference}: registry stored ${stored}, expected ${sha256(bytes)}`);
  }
}
