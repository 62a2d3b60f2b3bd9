// An HTTP proxy between tsbuild and the registry that injects faults once each: a connection reset
// in the middle of an upload body, a reset in the middle of a blob download, and a 503.
import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from "node:http";
import type { Socket } from "node:net";

export interface FaultPlan {
  /** Reset the client connection after this many bytes of the first PATCH or PUT body that is larger. */
  resetUploadAfter?: number;
  /** Reset the client connection after this many bytes of the first blob GET response that is larger. */
  resetDownloadAfter?: number;
  /** Answer the first request whose method and path match with 503. */
  unavailable?: (method: string, path: string) => boolean;
}

export interface FaultProxy {
  host: string;
  fired: { uploadReset: number; downloadReset: number; unavailable: number };
  stop(): Promise<void>;
}

function reset(socket: Socket): void {
  socket.resetAndDestroy();
}

export async function startFaultProxy(upstreamPort: number, plan: FaultPlan): Promise<FaultProxy> {
  const fired = { uploadReset: 0, downloadReset: 0, unavailable: 0 };
  const sockets = new Set<Socket>();
  let downloadArmed = false;
  let uploadArmed = false;
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    if (plan.unavailable && fired.unavailable === 0 && plan.unavailable(method, path)) {
      fired.unavailable++;
      req.resume();
      res.writeHead(503, { "content-type": "application/json" }).end('{"errors":[{"code":"UNAVAILABLE"}]}');
      return;
    }
    const up = request(
      { host: "127.0.0.1", port: upstreamPort, method, path, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        const limit = plan.resetDownloadAfter;
        const isBlobGet = method === "GET" && path.includes("/blobs/sha256:");
        const size = Number(upRes.headers["content-length"] ?? 0);
        // Exactly one response is armed; parallel downloads of other blobs pass untouched.
        if (limit !== undefined && !downloadArmed && isBlobGet && size > limit) {
          downloadArmed = true;
          let sent = 0;
          upRes.on("data", (chunk: Buffer) => {
            if (fired.downloadReset > 0) return;
            sent += chunk.length;
            if (sent > limit) {
              fired.downloadReset++;
              upRes.destroy();
              reset(req.socket);
              return;
            }
            res.write(chunk);
          });
          upRes.on("end", () => res.end());
          return;
        }
        upRes.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    const limit = plan.resetUploadAfter;
    const bodySize = Number(req.headers["content-length"] ?? 0);
    if (limit !== undefined && !uploadArmed && (method === "PATCH" || method === "PUT") && bodySize > limit) {
      uploadArmed = true;
      let received = 0;
      req.on("data", (chunk: Buffer) => {
        if (fired.uploadReset > 0) return;
        received += chunk.length;
        if (received > limit) {
          fired.uploadReset++;
          up.destroy();
          reset(req.socket);
          return;
        }
        up.write(chunk);
      });
      req.on("end", () => up.end());
      return;
    }
    req.pipe(up);
  };
  const server: Server = createServer(handle);
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    fired,
    stop: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
