// An HTTPS agent whose connections go through an HTTP proxy's CONNECT tunnel: TLS runs end to end
// between tsbuild and the server inside the tunnel, so the proxy sees neither the requests nor the
// credentials. Keep-alive pooling works as for direct connections (one tunnel per pooled socket).
import http from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { proxyAuthorization } from "./proxy.js";

type Created = (err: Error | null, socket?: Duplex) => void;

/**
 * An agent that tunnels through `proxy`. The class is defined on first use, not at module load:
 * `extends https.Agent` would load node:https while the CLI's start-up snapshot is built, which
 * Node 20 cannot serialize (see bundle.config.mjs).
 */
export function tunnelAgent(proxy: URL, options: https.AgentOptions): https.Agent {
  TunnelAgent ??= defineTunnelAgent();
  return new TunnelAgent(proxy, options);
}

let TunnelAgent: (new (proxy: URL, options: https.AgentOptions) => https.Agent) | undefined;

function defineTunnelAgent() {
  return class extends https.Agent {
    constructor(
      private readonly proxy: URL,
      options: https.AgentOptions,
    ) {
      super(options);
    }

    /** Called by the agent for every new pooled socket; it answers through `created` once tunnelled. */
    override createConnection(
      options: tls.ConnectionOptions & { host?: string; port?: number },
      created: Created,
    ): undefined {
      const target = `${options.host}:${options.port ?? 443}`;
      const auth = proxyAuthorization(this.proxy);
      const req = http.request({
        host: this.proxy.hostname,
        port: this.proxy.port || 80,
        method: "CONNECT",
        path: target,
        headers: { host: target, ...(auth ? { "proxy-authorization": auth } : {}) },
      });
      req.once("connect", (res, socket) => {
        if (res.statusCode !== 200) {
          socket.destroy();
          const err: NodeJS.ErrnoException = new Error(
            `proxy ${this.proxy.host}: CONNECT ${target} refused: ${res.statusCode} ${res.statusMessage ?? ""}`.trim(),
          );
          // A 5xx from the proxy may pass (retried as a dropped connection); a 4xx will not.
          if ((res.statusCode ?? 0) >= 500) err.code = "ECONNRESET";
          created(err);
          return;
        }
        const secure = tls.connect({ ...options, socket, servername: options.servername ?? options.host });
        secure.once("secureConnect", () => created(null, secure));
        secure.once("error", (err) => created(err));
      });
      req.once("error", (err) => created(err));
      req.end();
      return undefined;
    }
  };
}
