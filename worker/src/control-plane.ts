/**
 * HTTP client for the worker ↔ control-plane API (docs/spec/worker-api.md). Every response body
 * is parsed with the shared contract before use. Uses node:http(s) directly so a private CA can
 * be trusted for exactly these requests, and so every request has a hard timeout.
 */
import http from "node:http";
import https from "node:https";
import { z } from "zod";
import {
  AttachmentsSyncResponseSchema,
  CatalogueResponseSchema,
  FileExpiredResponseSchema,
  HeartbeatResponseSchema,
  JoinResponseSchema,
  RoutesSyncResponseSchema,
  RoutingConfigResponseSchema,
  type RouteReport,
  type RoutingConfigResponse,
  NODE_AUTH_SCHEME,
  SettingsResponseSchema,
  VerifyKeyResponseSchema,
  WORKER_API,
  WorkerApiErrorSchema,
  type AttachmentReport,
  type CatalogueResponse,
  type FileExpiredReport,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type JoinRequest,
  type JoinResponse,
  type SettingsResponse,
  type VerifyKeyResponse,
} from "../../src/server/contracts/worker";
import type { WorkerMetrics } from "./metrics";

/** A control-plane call that failed. `status` 0 means no HTTP answer (network, timeout). */
export class ControlPlaneError extends Error {
  constructor(
    readonly endpoint: string,
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${endpoint}: ${status ? `HTTP ${status} ` : ""}${code}: ${message}`);
    this.name = "ControlPlaneError";
  }
  /** The node credential is no longer accepted: revoked, or the node was deleted. */
  get nodeRejected(): boolean {
    return this.status === 401 || this.code === "NODE_REVOKED";
  }
  /** Worth retrying later (network trouble, overload, server errors). */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

export interface ControlPlaneClientOptions {
  baseUrl: string;
  ca?: string | Buffer;
  timeoutMs: number;
  metrics?: WorkerMetrics;
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export class ControlPlaneClient {
  private credential: string | null = null;
  private readonly agent: http.Agent;

  constructor(private readonly opts: ControlPlaneClientOptions) {
    const url = new URL(opts.baseUrl);
    // keepAlive: heartbeat, catalogue and key checks reuse one connection.
    this.agent = url.protocol === "https:" ? new https.Agent({ keepAlive: true, ca: opts.ca }) : new http.Agent({ keepAlive: true });
  }

  setCredential(credential: string): void {
    this.credential = credential;
  }

  /** Exchanges a one-time join token for a node credential. */
  join(req: JoinRequest): Promise<JoinResponse> {
    return this.call("join", "POST", WORKER_API.join, req, JoinResponseSchema, false);
  }

  heartbeat(req: HeartbeatRequest): Promise<HeartbeatResponse> {
    return this.call("heartbeat", "POST", WORKER_API.heartbeat, req, HeartbeatResponseSchema);
  }

  /** The tenant's catalogue, or null when unchanged since `etag` (304). */
  async catalogue(etag: string | null): Promise<CatalogueResponse | null> {
    return this.callConditional("catalogue", WORKER_API.catalogue, etag, CatalogueResponseSchema);
  }

  /** The active worker settings, or null when unchanged since `etag`. */
  async settings(etag: string | null): Promise<SettingsResponse | null> {
    return this.callConditional("settings", WORKER_API.settings, etag, SettingsResponseSchema);
  }

  verifyKey(apiKey: string): Promise<VerifyKeyResponse> {
    return this.call("verifyKey", "POST", WORKER_API.verifyKey, { apiKey }, VerifyKeyResponseSchema);
  }

  syncAttachments(attachments: AttachmentReport[]): Promise<z.infer<typeof AttachmentsSyncResponseSchema>> {
    return this.call("attachments", "PUT", WORKER_API.attachments, { attachments }, AttachmentsSyncResponseSchema);
  }

  /** Redis credentials for cross-node routing (GET /api/worker/routing). */
  routing(): Promise<RoutingConfigResponse> {
    return this.call("routing", "GET", WORKER_API.routing, undefined, RoutingConfigResponseSchema);
  }

  /** The node's complete set of route reports (PUT /api/worker/routes). */
  syncRoutes(routes: RouteReport[]): Promise<z.infer<typeof RoutesSyncResponseSchema>> {
    return this.call("routes", "PUT", WORKER_API.routes, { routes }, RoutesSyncResponseSchema);
  }

  /** This node removed a file's mapping at its TTL (POST /api/worker/expired; audited as file.expired). */
  reportExpired(report: FileExpiredReport): Promise<z.infer<typeof FileExpiredResponseSchema>> {
    return this.call("expired", "POST", WORKER_API.expired, report, FileExpiredResponseSchema);
  }

  close(): void {
    this.agent.destroy();
  }

  private async callConditional<T>(endpoint: string, path: string, etag: string | null, schema: z.ZodType<T>): Promise<T | null> {
    const res = await this.request(endpoint, "GET", path, undefined, true, etag ? { "if-none-match": etag } : {});
    if (res.status === 304) return null;
    return this.parse(endpoint, res, schema);
  }

  private async call<T>(endpoint: string, method: string, path: string, body: unknown, schema: z.ZodType<T>, auth = true): Promise<T> {
    const res = await this.request(endpoint, method, path, body, auth, {});
    return this.parse(endpoint, res, schema);
  }

  private parse<T>(endpoint: string, res: RawResponse, schema: z.ZodType<T>): T {
    let json: unknown;
    try {
      json = JSON.parse(res.body);
    } catch {
      throw new ControlPlaneError(endpoint, res.status, "BAD_RESPONSE", `response is not JSON (${res.body.slice(0, 100)})`);
    }
    if (res.status >= 400) {
      const err = WorkerApiErrorSchema.safeParse(json);
      if (err.success) throw new ControlPlaneError(endpoint, res.status, err.data.error.code, err.data.error.message);
      throw new ControlPlaneError(endpoint, res.status, "HTTP_ERROR", res.body.slice(0, 200));
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new ControlPlaneError(endpoint, res.status, "BAD_RESPONSE", z.prettifyError(parsed.error));
    return parsed.data;
  }

  private request(endpoint: string, method: string, path: string, body: unknown, auth: boolean, headers: Record<string, string>): Promise<RawResponse> {
    const url = new URL(path, this.opts.baseUrl);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const h: Record<string, string> = { accept: "application/json", ...headers };
    if (payload) {
      h["content-type"] = "application/json";
      h["content-length"] = String(payload.length);
    }
    if (auth) {
      if (!this.credential) return Promise.reject(new ControlPlaneError(endpoint, 0, "NO_CREDENTIAL", "the worker has not joined yet"));
      h.authorization = `${NODE_AUTH_SCHEME} ${this.credential}`;
    }
    const started = process.hrtime.bigint();
    const lib = url.protocol === "https:" ? https : http;
    return new Promise<RawResponse>((resolve, reject) => {
      const req = lib.request(url, { method, headers: h, agent: this.agent, timeout: this.opts.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", (e) => reject(new ControlPlaneError(endpoint, 0, "NETWORK", e.message)));
      });
      req.on("timeout", () => req.destroy(new Error(`timed out after ${this.opts.timeoutMs} ms`)));
      req.on("error", (e) => reject(new ControlPlaneError(endpoint, 0, "NETWORK", e.message)));
      req.end(payload);
    }).then(
      (r) => {
        this.observe(endpoint, r.status < 400 ? "ok" : `http_${r.status}`, started);
        return r;
      },
      (e: unknown) => {
        this.observe(endpoint, "network", started);
        throw e;
      },
    );
  }

  private observe(endpoint: string, outcome: string, started: bigint): void {
    this.opts.metrics?.controlPlaneRequests.observe({ endpoint, outcome }, Number(process.hrtime.bigint() - started) / 1e9);
  }
}
