/**
 * The Commy control-plane server (`npm start`, scripts/up, the e2e tests and the benchmark all
 * start the app this way, after `next build`).
 *
 * One `node:http` server. The REST API (`/api/v1/*`, every route of REST_ROUTES) and the worker
 * endpoints (`/api/worker/*`) are answered directly by their handlers — the functions the
 * Next.js route files export, taken from Next.js's own build (one instance of every module in
 * the process), with the same authentication, validation, errors and audit — which
 * skips Next.js's per-request app-route pipeline (the B6 bottleneck: see docs/BENCHMARKS.md).
 * Everything else (the UI, `/api/trpc`, `/api/auth`, `/api/v1/openapi.json`, `/api/v1/ping`,
 * unknown paths and methods) goes to Next.js's own request handler, unchanged.
 *
 *   node --import tsx server.ts [--port N] [--hostname H]
 *
 * Env: PORT (3000), HOSTNAME (0.0.0.0), COMMY_HTTP_WORKERS (processes, default 1; "auto" = one
 * per core — node:cluster, they share the port), plus everything in README → Configuration.
 */
import cluster from "node:cluster";
import { createServer } from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = path.dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({ options: { port: { type: "string", short: "p" }, hostname: { type: "string", short: "H" } }, strict: false });
const port = Number(flags.port ?? process.env.PORT ?? 3000);
const hostname = String(flags.hostname ?? process.env.HOSTNAME ?? "0.0.0.0");

function workerCount(): number {
  const raw = (process.env.COMMY_HTTP_WORKERS ?? "1").trim();
  if (raw === "auto") return Math.max(1, os.availableParallelism());
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`COMMY_HTTP_WORKERS must be a positive integer or "auto", not "${raw}"`);
  return n;
}

async function serve(): Promise<void> {
  (process.env as Record<string, string>).NODE_ENV ??= "production";
  process.env.NEXT_TELEMETRY_DISABLED ??= "1";
  const { default: next } = await import("next");
  const app = next({ dev: false, dir: root, hostname, port });
  const handleNext = app.getRequestHandler();
  // First: Next.js loads .env* files and validates the environment (next.config.js) here, before
  // any of our modules reads process.env.
  await app.prepare();

  const { DirectRoutes, addRestRoutes, addWorkerRoutes, compiledRouteLoader } = await import("~/server/http/direct-routes");
  const { createAppListener } = await import("~/server/http/listener");
  // Only the declarations (method, path) are read from here; the handlers come from the build.
  const { REST_ROUTES } = await import("~/server/rest/routes");
  const load = compiledRouteLoader(path.join(root, process.env.NEXT_DIST_DIR || ".next"));
  const table = new DirectRoutes();
  await addRestRoutes(table, REST_ROUTES, load);
  await addWorkerRoutes(table, path.join(root, "src", "app"), load);

  const server = createServer(createAppListener(table, handleNext));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, resolve);
  });

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Finish in-flight requests; long-lived streams get a short grace period, then are cut.
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
      process.exit(0);
    }, 5_000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  if (!cluster.isWorker || cluster.worker?.id === 1) {
    console.log(`> Commy ready on http://${hostname}:${port} (${table.routes.length} routes served directly, the rest by Next.js)`);
  }
}

async function main(): Promise<void> {
  const workers = workerCount();
  if (workers === 1 || !cluster.isPrimary) return serve();
  // Several processes sharing the port (the primary accepts, round-robin): each is a full
  // replica (its own pools and caches); the control plane is stateless, so this is safe.
  for (let i = 0; i < workers; i++) cluster.fork();
  let stopping = false;
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) return;
    console.error(`worker ${worker.process.pid} exited (${code ?? signal}); starting another`);
    cluster.fork();
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
    let left = Object.keys(cluster.workers ?? {}).length;
    if (left === 0) process.exit(0);
    cluster.on("exit", () => {
      if (--left === 0) process.exit(0);
    });
    setTimeout(() => process.exit(0), 8_000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
