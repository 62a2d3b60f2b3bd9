// Extra trusted CAs for HTTPS (registries, ADD <url>), loaded when the first HTTPS request is made.
//
// Node reads NODE_EXTRA_CA_CERTS at start-up, before any code runs: parsing a 150-certificate bundle
// costs ~55 ms of every command on this machine, although most commands (a cached build, `images`)
// open no HTTPS connection. bin/tsbuild therefore hands the variable over under EXTRA_CA_ENV and
// unsets it, and the first HTTPS request adds those certificates here, to the same effect: Node's
// bundled roots plus the file's.
import { readFileSync } from "node:fs";
import tls from "node:tls";

/** The name bin/tsbuild moves NODE_EXTRA_CA_CERTS to. */
export const EXTRA_CA_ENV = "TSBUILD_NODE_EXTRA_CA_CERTS";

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The PEM certificates in `text`, in order. */
export function pemCertificates(text: string): string[] {
  return text.match(PEM_CERT) ?? [];
}

export interface TrustWarning {
  code: "EXTRA_CA_UNREADABLE";
  path: string;
  message: string;
}

/**
 * A TLS context trusting Node's roots and the certificates of the file EXTRA_CA_ENV names; undefined
 * when the variable is unset (Node's default context already holds any NODE_EXTRA_CA_CERTS it read).
 * An unreadable file is a warning, not an error, as with NODE_EXTRA_CA_CERTS itself.
 */
export function extraCaContext(
  env: NodeJS.ProcessEnv,
  warn: (w: TrustWarning) => void,
): tls.SecureContext | undefined {
  const path = env[EXTRA_CA_ENV];
  if (!path) return undefined;
  let extra: string[];
  try {
    extra = pemCertificates(readFileSync(path, "utf8"));
  } catch (err) {
    warn({ code: "EXTRA_CA_UNREADABLE", path, message: (err as Error).message });
    return undefined;
  }
  return tls.createSecureContext({ ca: [...tls.rootCertificates, ...extra] });
}
