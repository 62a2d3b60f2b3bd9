// A throwaway CA and a server certificate it signed, made with openssl, for HTTPS tests.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });

export interface TestCertificates {
  ca: string;
  certificate: string;
  key: string;
}

/** A CA and a server certificate for `subjectAltNames` (openssl syntax: "IP:127.0.0.2", "DNS:x.test"). */
export function makeCertificates(dir: string, subjectAltNames = ["IP:127.0.0.2"]): TestCertificates {
  const ca = join(dir, "ca.pem");
  const caKey = join(dir, "ca.key");
  const key = join(dir, "server.key");
  const csr = join(dir, "server.csr");
  const certificate = join(dir, "server.pem");
  const ext = join(dir, "server.ext");
  const days = ["-days", "1"];
  openssl(
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", ...days, "-subj", "/CN=tsbuild test CA"].concat([
      "-keyout",
      caKey,
      "-out",
      ca,
    ]),
  );
  openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=tsbuild test server",
    "-keyout",
    key,
    "-out",
    csr,
  ]);
  writeFileSync(ext, `subjectAltName = ${subjectAltNames.join(", ")}\n`);
  openssl(
    ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", ...days].concat([
      "-extfile",
      ext,
      "-out",
      certificate,
    ]),
  );
  return { ca, certificate, key };
}
