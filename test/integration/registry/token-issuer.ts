// A small token server for distribution's token auth: RS256 JWTs signed with a key whose self-signed
// certificate the registry trusts (rootcertbundle); the `kid` is libtrust's key id of that key.
import { execFileSync } from "node:child_process";
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { join } from "node:path";

export interface TokenIssuer {
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
  /** Token requests per scope set (sorted scopes joined by a space; "" for none). */
  hits: Map<string, number>;
  stop(): Promise<void>;
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(buf: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** libtrust's KeyID: sha256 of the DER public key, first 240 bits, base32, in groups of 4 joined by ":". */
function libtrustKeyId(publicKeyDer: Buffer): string {
  const b32 = base32(createHash("sha256").update(publicKeyDer).digest().subarray(0, 30));
  return b32.match(/.{4}/g)!.join(":");
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString("base64url");

/** Starts the issuer; `users` are the accepted Basic credentials (anonymous requests get 401). */
export async function startTokenIssuer(dir: string, users: Record<string, string>): Promise<TokenIssuer> {
  const keyPath = join(dir, "issuer.key");
  const certPath = join(dir, "issuer.crt");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=tsbuild-test-issuer",
      "-keyout",
      keyPath,
      "-out",
      certPath,
    ],
    { stdio: "ignore" },
  );
  const key = createPrivateKey(readFileSync(keyPath));
  const kid = libtrustKeyId(createPublicKey(key).export({ type: "spki", format: "der" }));
  const service = "tsbuild-test-registry";
  const issuer = "tsbuild-test-issuer";
  const hits = new Map<string, number>();

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const scopes = url.searchParams.getAll("scope").sort();
    hits.set(scopes.join(" "), (hits.get(scopes.join(" ")) ?? 0) + 1);
    const auth = req.headers.authorization ?? "";
    const [user, pass] = Buffer.from(auth.replace(/^Basic /, ""), "base64")
      .toString()
      .split(":");
    if (!auth.startsWith("Basic ") || user === undefined || users[user] !== pass) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"details":"bad credentials"}');
      return;
    }
    const access = scopes.map((s) => {
      const [type, name, actions] = s.split(":");
      return { type, name, actions: (actions ?? "").split(",") };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "RS256", kid };
    const claims = {
      iss: issuer,
      sub: user,
      aud: service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString("hex"),
      access,
    };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${signingInput}.${b64url(sign("sha256", Buffer.from(signingInput), key))}`;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    hits,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
