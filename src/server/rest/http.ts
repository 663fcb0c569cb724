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
 * Any thrown value → the error response. AppErrors keep their code, user message and field
 * errors; a ZodError is a VALIDATION_FAILED with field errors; anything else is logged with the
 * request id and answered with a generic 500 (internal details never reach the client).
 */
export function errorResponse(err: unknown, requestId: string): Response {
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
  return jsonResponse(body, requestId, { status: APP_ERROR_CODES[appError.code] ?? 500, headers });
}
