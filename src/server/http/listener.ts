/**
 * The app server's request listener: a request whose method and path match a direct route
 * (`direct-routes.ts`) is answered by that route's web handler through `node-adapter.ts`; any
 * other request goes to `fallback` (Next.js's request handler in `server.ts`).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { logger } from "~/server/logger";
import type { DirectMatch, DirectRoutes } from "./direct-routes";
import { toWebRequest, writeWebResponse } from "./node-adapter";

export function createAppListener(table: DirectRoutes, fallback: (req: IncomingMessage, res: ServerResponse) => unknown): RequestListener {
  return (req, res) => {
    const url = req.url ?? "/";
    if (url.startsWith("/api/")) {
      const q = url.indexOf("?");
      const match = table.match(req.method ?? "GET", q < 0 ? url : url.slice(0, q));
      if (match) return void serveDirect(match, req, res);
    }
    void fallback(req, res);
  };
}

async function serveDirect(match: DirectMatch, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Aborted when the client goes away before the response is complete (what Next.js does with
  // `request.signal`): long-running handlers (streams) stop their work.
  const abort = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) abort.abort();
  };
  res.once("close", onClose);
  try {
    const response = await match.route.handler(toWebRequest(req, abort.signal), { params: match.params });
    await writeWebResponse(res, response);
  } catch (err) {
    // The handlers map every error themselves; this is for bugs in the plumbing.
    logger.error({ err, method: req.method, path: match.route.path }, "direct route failed");
    if (!res.headersSent) {
      res.writeHead(500, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify({ error: { code: "INTERNAL", message: "Internal error" } }));
    } else res.destroy();
  } finally {
    res.off("close", onClose);
  }
}
