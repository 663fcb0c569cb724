/**
 * The one error type of the control plane. Services throw `AppError`; tRPC and REST map it
 * to their transport in exactly one place each (`toTRPCError`, `toHttpError`), so a client
 * sees the same stable `code` whichever door it came through.
 */

export const APP_ERROR_CODES = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  API_KEY_INVALID: 401,
  API_KEY_REVOKED: 401,
  API_KEY_EXPIRED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  /** Removing or demoting the tenant's only owner. */
  LAST_OWNER: 409,
  /** Invitation links: each failure says exactly what is wrong with the link. */
  INVITATION_EXPIRED: 410,
  INVITATION_REVOKED: 410,
  INVITATION_USED: 409,
  INVITATION_EMAIL_MISMATCH: 403,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  /** A variables file has no slot of that name (data API). */
  SLOT_NOT_FOUND: 404,
  /** The control plane has no Redis configured (REDIS_URL unset) or cannot reach it. */
  ROUTING_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type AppErrorCode = keyof typeof APP_ERROR_CODES;

/** Field path → messages, as in zod's flattened errors. */
export type FieldErrors = Record<string, string[]>;

export class AppError extends Error {
  readonly code: AppErrorCode;
  /** Safe to show to the caller. `message` may carry internal detail for logs. */
  readonly userMessage: string;
  readonly fields?: FieldErrors;

  constructor(code: AppErrorCode, userMessage: string, opts: { internal?: string; fields?: FieldErrors; cause?: unknown } = {}) {
    super(opts.internal ?? userMessage, { cause: opts.cause });
    this.name = "AppError";
    this.code = code;
    this.userMessage = userMessage;
    this.fields = opts.fields;
  }

  get httpStatus(): number {
    return APP_ERROR_CODES[this.code];
  }

  static notFound(what: string): AppError {
    return new AppError("NOT_FOUND", `${what} not found`);
  }

  static forbidden(permission: string): AppError {
    return new AppError("FORBIDDEN", `You do not have permission: ${permission}`);
  }

  static conflict(message: string): AppError {
    return new AppError("CONFLICT", message);
  }

  static validation(fields: FieldErrors, message = "Some fields are invalid"): AppError {
    return new AppError("VALIDATION_FAILED", message, { fields });
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
