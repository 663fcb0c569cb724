/**
 * Responses of the REST API, and the ONE mapping of errors onto HTTP: every failure leaves as
 * `{ "error": { "code", "message", "fields"?, "requestId" } }` with the status of its code.
 *
 * Web-standard `Request`/`Response` only (no `next/*`), so handlers can be called directly in
 * tests and reused outside Next.js.
 */
import { ZodError } from "zod";
import { zodFieldErrors, type TErrorEnvelope } from "~/server/contracts/common";
import { APP_ERROR_CODES, AppError, isAppError } from "~/server/errors";
import { logger } from "~/server/logger";
import { toWebResponse, type PlainResponse } from "./direct";

export const REQUEST_ID_HEADER = "x-request-id";

/** Headers every API response carries. `no-store`: responses are per-caller and must not be cached by proxies. */
function baseHeaders(requestId: string, extra?: HeadersInit): Headers {
  const headers = new Headers(extra);
  headers.set(REQUEST_ID_HEADER, requestId);
  if (!headers.has("cache-control")) headers.set("cache-control", "no-store");
  return headers;
}

/** A JSON response. */
export function jsonResponse(body: unknown, requestId: string, init: { status?: number; headers?: HeadersInit } = {}): Response {
  const headers = baseHeaders(requestId, init.headers);
  headers.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(body), { status: init.status ?? 200, headers });
}

/** A response without a body (204). */
export function emptyResponse(requestId: string, status = 204): Response {
  return new Response(null, { status, headers: baseHeaders(requestId) });
}

/**
 * A body that is JSON text already (e.g. rows stored in their API form): sent as it is. The
 * text must be what `JSON.stringify` of the documented value gives.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

/** `jsonResponse` as a plain answer (same status, headers and body; `extra` names in lower case). */
export function plainJsonResponse(body: unknown, requestId: string, status = 200, extra?: Record<string, string>): PlainResponse {
  const headers: Record<string, string> = { "cache-control": "no-store", ...extra };
  headers[REQUEST_ID_HEADER] = requestId;
  headers["content-type"] = "application/json; charset=utf-8";
  return { status, headers, body: body instanceof JsonText ? body.text : JSON.stringify(body) };
}

/** `emptyResponse` as a plain answer. */
export function plainEmptyResponse(requestId: string, status = 204): PlainResponse {
  return { status, headers: { "cache-control": "no-store", [REQUEST_ID_HEADER]: requestId }, body: null };
}

/**
 * Any thrown value → the error response. AppErrors keep their code, user message and field
 * errors; a ZodError is a VALIDATION_FAILED with field errors; anything else is logged with the
 * request id and answered with a generic 500 (internal details never reach the client).
 */
export function errorResponse(err: unknown, requestId: string): Response {
  return toWebResponse(plainErrorResponse(err, requestId));
}

/** `errorResponse` as a plain answer. */
export function plainErrorResponse(err: unknown, requestId: string): PlainResponse {
  let appError: AppError;
  if (isAppError(err)) {
    appError = err;
  } else if (err instanceof ZodError) {
    appError = AppError.validation(zodFieldErrors(err));
  } else {
    logger.error({ err, requestId }, "REST handler failed");
    appError = new AppError("INTERNAL", "Internal error. Quote the request id when reporting it.");
  }
  const body: TErrorEnvelope = {
    error: {
      code: appError.code,
      message: appError.userMessage,
      ...(appError.fields ? { fields: appError.fields } : {}),
      requestId,
    },
  };
  const headers: Record<string, string> = {};
  const retryAfter = (appError as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  if (typeof retryAfter === "number") headers["retry-after"] = String(Math.ceil(retryAfter));
  if (appError.httpStatus === 401) headers["www-authenticate"] = 'Bearer realm="commy"';
  return plainJsonResponse(body, requestId, APP_ERROR_CODES[appError.code] ?? 500, headers);
}
