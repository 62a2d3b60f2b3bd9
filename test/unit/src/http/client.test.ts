// tsbuild's HTTP client (node:http): redirects as fetch follows them, bodies, connection reuse.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTransient } from "../../../../src/registry/retry.js";
import { httpRequest } from "../../../../src/http/client.js";

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
  port: number;
}

function listen(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(req, res, Buffer.concat(chunks).toString()));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const portOf = (s: Server): number => (s.address() as AddressInfo).port;

describe("httpRequest", () => {
  const seen: Seen[] = [];
  const connections = new Set<unknown>();
  let main: Server;
  let other: Server;

  beforeAll(async () => {
    const record = (port: () => number) => (req: IncomingMessage, res: ServerResponse, body: string) => {
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        authorization: req.headers.authorization,
        body,
        port: port(),
      });
      connections.add(req.socket);
      const url = req.url ?? "/";
      if (url === "/same") res.writeHead(307, { location: "/final" }).end("moved");
      else if (url === "/cross")
        res.writeHead(302, { location: `http://127.0.0.1:${portOf(other)}/final` }).end();
      else if (url === "/see-other") res.writeHead(303, { location: "/final" }).end();
      else if (url === "/short") {
        res.writeHead(200, { "content-length": "100" });
        res.write("only part");
        setTimeout(() => res.socket?.destroy(), 20);
      } else res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    };
    main = await listen(record(() => portOf(main)));
    other = await listen(record(() => portOf(other)));
  });
  afterAll(async () => {
    await new Promise((r) => main.close(r));
    await new Promise((r) => other.close(r));
  });

  it("follows a same-origin redirect with the method, body and Authorization", async () => {
    seen.length = 0;
    const res = await httpRequest(`http://127.0.0.1:${portOf(main)}/same`, {
      method: "PUT",
      headers: { authorization: "Bearer t" },
      body: Buffer.from("data"),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(seen.map((s) => [s.method, s.url, s.authorization, s.body])).toEqual([
      ["PUT", "/same", "Bearer t", "data"],
      ["PUT", "/final", "Bearer t", "data"],
    ]);
  });

  it("drops Authorization on a redirect to another origin (a CDN must not see credentials)", async () => {
    seen.length = 0;
    const res = await httpRequest(`http://127.0.0.1:${portOf(main)}/cross`, {
      headers: { authorization: "Basic secret" },
    });
    expect(res.status).toBe(200);
    await res.bytes();
    expect(seen.map((s) => [s.port, s.url, s.authorization])).toEqual([
      [portOf(main), "/cross", "Basic secret"],
      [portOf(other), "/final", undefined],
    ]);
  });

  it("turns a 303 into a GET without body", async () => {
    seen.length = 0;
    const res = await httpRequest(`http://127.0.0.1:${portOf(main)}/see-other`, {
      method: "POST",
      body: "x",
    });
    await res.discard();
    expect(seen.map((s) => [s.method, s.body])).toEqual([
      ["POST", "x"],
      ["GET", ""],
    ]);
  });

  it("reuses connections once bodies are read or discarded", async () => {
    connections.clear();
    for (let i = 0; i < 5; i++) {
      await (await httpRequest(`http://127.0.0.1:${portOf(main)}/final`)).discard();
      await (await httpRequest(`http://127.0.0.1:${portOf(main)}/final`)).bytes();
    }
    expect(connections.size).toBe(1);
  });

  it("reports a body cut short as a transient error", async () => {
    const res = await httpRequest(`http://127.0.0.1:${portOf(main)}/short`);
    const err = await res.bytes().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(isTransient(err)).toBe(true);
  });
});
