/**
 * Plumbing shared by the worker endpoints (`src/app/api/worker/**`): node authentication,
 * JSON body parsing against the worker contract, and one error mapping so every endpoint
 * answers `{ error: { code, message, fields? } }` with the same codes.
 */
import type { z } from "zod";
import { NODE_AUTH_SCHEME } from "~/server/contracts/worker";
import { AppError, isAppError } from "~/server/errors";
import { logger } from "~/server/logger";
import { authenticateNode, NodeAuthError, type AuthenticatedNode } from "~/server/services/node-join";
import { requestMetaFromHeaders } from "./request-meta";
import type { RequestMeta } from "~/server/actor";

/** Largest request body a worker may send (attachment sync of a busy node fits easily). */
export const WORKER_BODY_LIMIT = 4 << 20;

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", "cache-control": "no-store", ...headers } });
}

function errorResponse(status: number, code: string, message: string, fields?: Record<string, string[]>): Response {
  return jsonResponse(status, { error: { code, message, ...(fields ? { fields } : {}) } });
}

/** The credential of `Authorization: Node <credential>`, or null. */
export function nodeCredential(headers: Headers): string | null {
  const m = new RegExp(`^${NODE_AUTH_SCHEME}\\s+(\\S+)\\s*$`).exec(headers.get("authorization") ?? "");
  return m?.[1] ?? null;
}

/** Reads and validates a JSON body; oversized → 413, invalid → 400 with field errors. */
export async function readJson<T>(req: Request, schema: z.ZodType<T>): Promise<T> {
  const length = Number(req.headers.get("content-length") ?? "0");
  if (length > WORKER_BODY_LIMIT) throw new AppError("PAYLOAD_TOO_LARGE", `Request body over ${WORKER_BODY_LIMIT} bytes`);
  const text = await req.text();
  if (text.length > WORKER_BODY_LIMIT) throw new AppError("PAYLOAD_TOO_LARGE", `Request body over ${WORKER_BODY_LIMIT} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppError("BAD_REQUEST", "Body is not valid JSON");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const fields: Record<string, string[]> = {};
    for (const i of parsed.error.issues) (fields[i.path.join(".") || "(body)"] ??= []).push(i.message);
    throw AppError.validation(fields);
  }
  return parsed.data;
}

type Handler = (req: Request, meta: RequestMeta) => Promise<Response>;
type NodeHandler = (req: Request, node: AuthenticatedNode, meta: RequestMeta) => Promise<Response>;

/** Wraps a handler with the error mapping. */
export function workerRoute(handler: Handler): (req: Request) => Promise<Response> {
  return async (req) => {
    const meta = requestMetaFromHeaders(req.headers);
    try {
      return await handler(req, meta);
    } catch (e) {
      if (e instanceof NodeAuthError) return errorResponse(401, e.code, e.message);
      if (isAppError(e)) return errorResponse(e.httpStatus, e.code, e.userMessage, e.fields);
      logger.error({ err: e, requestId: meta.requestId, path: new URL(req.url).pathname }, "worker API request failed");
      return errorResponse(500, "INTERNAL", `Internal error (request id ${meta.requestId})`);
    }
  };
}

/** Wraps a handler that needs an authenticated, non-revoked node. */
export function nodeRoute(handler: NodeHandler): (req: Request) => Promise<Response> {
  return workerRoute(async (req, meta) => {
    const node = await authenticateNode(nodeCredential(req.headers));
    return handler(req, node, meta);
  });
}
