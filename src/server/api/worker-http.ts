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
import { toWebResponse, webRequestLike, withDirect, type HandlerResult, type HeaderReader, type PlainResponse, type RequestLike, type WithDirect } from "~/server/rest/direct";

/** Largest request body a worker may send (attachment sync of a busy node fits easily). */
export const WORKER_BODY_LIMIT = 4 << 20;

/** A JSON answer (plain: see rest/direct.ts; the route's web handler turns it into a `Response`). */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): PlainResponse {
  return { status, headers: { "content-type": "application/json", "cache-control": "no-store", ...headers }, body: JSON.stringify(body) };
}

function errorResponse(status: number, code: string, message: string, fields?: Record<string, string[]>): PlainResponse {
  return jsonResponse(status, { error: { code, message, ...(fields ? { fields } : {}) } });
}

const NODE_AUTHORIZATION = new RegExp(`^${NODE_AUTH_SCHEME}\\s+(\\S+)\\s*$`);

/** The credential of `Authorization: Node <credential>`, or null. */
export function nodeCredential(headers: HeaderReader): string | null {
  const m = NODE_AUTHORIZATION.exec(headers.get("authorization") ?? "");
  return m?.[1] ?? null;
}

/** Reads and validates a JSON body; oversized → 413, invalid → 400 with field errors. */
export async function readJson<T>(req: Pick<RequestLike, "headers" | "text">, schema: z.ZodType<T>): Promise<T> {
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

type Handler = (req: RequestLike, meta: RequestMeta) => Promise<HandlerResult>;
type NodeHandler = (req: RequestLike, node: AuthenticatedNode, meta: RequestMeta) => Promise<HandlerResult>;

/**
 * Wraps a handler with the error mapping. The result is the route file's web handler, with the
 * same work attached for the app server's direct path (rest/direct.ts).
 */
export function workerRoute(handler: Handler): WithDirect<(req: Request) => Promise<Response>> {
  const core = async (req: RequestLike): Promise<HandlerResult> => {
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
  return withDirect(async (req: Request) => toWebResponse(await core(webRequestLike(req))), core);
}

/** Wraps a handler that needs an authenticated, non-revoked node. */
export function nodeRoute(handler: NodeHandler): WithDirect<(req: Request) => Promise<Response>> {
  return workerRoute(async (req, meta) => {
    const node = await authenticateNode(nodeCredential(req.headers));
    return handler(req, node, meta);
  });
}
