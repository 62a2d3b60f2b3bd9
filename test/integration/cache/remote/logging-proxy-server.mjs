// Plain-JS HTTP proxy run as its own process (tests call the CLI with spawnSync, which blocks their
// event loop): forwards to 127.0.0.1:UPSTREAM and appends "METHOD PATH" of each request to LOGFILE.
// Usage: node logging-proxy-server.mjs UPSTREAM_PORT LOGFILE — prints its own port on stdout.
import { appendFileSync } from "node:fs";
import { createServer, request } from "node:http";

const [upstreamPort, logFile] = process.argv.slice(2);
const server = createServer((req, res) => {
  appendFileSync(logFile, `${req.method} ${req.url}\n`);
  const up = request(
    {
      host: "127.0.0.1",
      port: Number(upstreamPort),
      method: req.method,
      path: req.url,
      headers: req.headers,
    },
    (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    },
  );
  up.on("error", () => res.destroy());
  req.pipe(up);
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
