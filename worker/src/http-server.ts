/**
 * Loopback HTTP listener: `/metrics` (Prometheus text format) and `/healthz` (200 while running,
 * 503 otherwise, JSON body with the state and its reason). Nothing else; never on a public address.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { WorkerMetrics } from "./metrics";
import type { WorkerStateMachine } from "./state";

export interface HealthExtra {
  (): Record<string, unknown>;
}

export async function startHttpServer(opts: {
  host: string;
  port: number;
  metrics: WorkerMetrics;
  state: WorkerStateMachine;
  extra: HealthExtra;
}): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.method === "GET" && req.url === "/metrics") {
        const body = await opts.metrics.registry.metrics();
        res.writeHead(200, { "content-type": opts.metrics.registry.contentType });
        res.end(body);
      } else if (req.method === "GET" && req.url === "/healthz") {
        const ok = opts.state.state === "running";
        res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
        res.end(JSON.stringify({ status: opts.state.state, reason: opts.state.reason, ...opts.extra() }));
      } else {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "NOT_FOUND", message: "only /metrics and /healthz" } }));
      }
    })().catch((e: unknown) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: opts.host, port: opts.port }, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
