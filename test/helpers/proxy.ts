// A real forward proxy in a child process (the tests' tsbuild runs through spawnSync, which blocks the
// test's own event loop): absolute-form HTTP requests are forwarded, CONNECT opens a TCP tunnel. It
// resolves host names through `routes` only ("name:port" → "ip:port"), so a name that exists nowhere
// else is reachable only through it: a test that gets through proves the proxy was used. Every host it
// was asked for is recorded.
import { type ChildProcess, spawn } from "node:child_process";

const PROXY = `
const http = require("node:http");
const net = require("node:net");
const routes = JSON.parse(process.argv[1]);
const route = (hostPort) => routes[hostPort];
const server = http.createServer((req, res) => {
  const url = new URL(req.url);
  const to = route(url.host) ?? route(url.hostname + ":" + (url.port || 80));
  console.log(JSON.stringify({ kind: "http", host: url.host, auth: req.headers["proxy-authorization"] ?? null }));
  if (!to) { res.writeHead(502); res.end("no route\\n"); return; }
  const [host, port] = to.split(":");
  const { "proxy-authorization": _a, ...headers } = req.headers;
  const up = http.request({ host, port, method: req.method, path: url.pathname + url.search, headers }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on("error", () => { res.writeHead(502); res.end(); });
  req.pipe(up);
});
server.on("connect", (req, client, head) => {
  const to = route(req.url);
  console.log(JSON.stringify({ kind: "connect", host: req.url, auth: req.headers["proxy-authorization"] ?? null }));
  if (!to) { client.end("HTTP/1.1 502 Bad Gateway\\r\\n\\r\\n"); return; }
  const [host, port] = to.split(":");
  const up = net.connect(Number(port), host, () => {
    client.write("HTTP/1.1 200 Connection Established\\r\\n\\r\\n");
    up.write(head);
    up.pipe(client);
    client.pipe(up);
  });
  up.on("error", () => client.destroy());
  client.on("error", () => up.destroy());
});
server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port })));
`;

export interface SeenRequest {
  kind: "http" | "connect";
  host: string;
  auth: string | null;
}

export interface RunningProxy {
  url: string;
  /** Every request the proxy was asked to forward, in order (after its output has been read). */
  seen(): Promise<SeenRequest[]>;
  stop(): void;
}

export async function startProxy(routes: Record<string, string>): Promise<RunningProxy> {
  const child: ChildProcess = spawn(process.execPath, ["-e", PROXY, JSON.stringify(routes)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: string[] = [];
  let buffered = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`proxy exited with ${code}`)));
    child.stdout!.on("data", (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      for (const line of parts) {
        const msg = JSON.parse(line) as { port?: number };
        if (msg.port) resolve(msg.port);
        else lines.push(line);
      }
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    seen: async () => {
      // Its lines arrive while this process's event loop runs: spawnSync held it until now.
      await new Promise((resolve) => setTimeout(resolve, 100));
      return lines.map((l) => JSON.parse(l) as SeenRequest);
    },
    stop: () => child.kill(),
  };
}
