/**
 * Typed errors of the client library. `code` is either one of the worker's stable socket error
 * codes (docs/spec/socket-protocol.md §6) or one of the client-side codes below.
 */
import type { SocketErrorCode } from "../protocol/messages";

export const CLIENT_ERROR_CODES = [
  /** The worker's socket cannot be reached (not running, wrong path, permission). */
  "WORKER_UNAVAILABLE",
  /** The connection to the worker closed (worker stopped or restarted); reconnect in progress when enabled. */
  "CONNECTION_CLOSED",
  /** The worker did not answer in time. */
  "TIMEOUT",
  /** This handle or client was closed. */
  "CLOSED",
  /** Write through a read-only attachment (consumer, or a key without data:write). */
  "READ_ONLY",
  /** The value could not be encoded/decoded with the file's serialization. */
  "SERIALIZATION",
  /** No variable of that name in the file. */
  "UNKNOWN_VARIABLE",
  /** A value or message larger than the slot/message maximum. */
  "VALUE_TOO_LARGE",
  /** Stream overflow policy "refuse" and the slowest consumer is a full ring behind. */
  "STREAM_FULL",
  /** The operation does not fit the file (e.g. variables API on a stream). */
  "WRONG_KIND",
] as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];
export type CommyErrorCode = SocketErrorCode | ClientErrorCode;

export class CommyClientError extends Error {
  constructor(
    readonly code: CommyErrorCode,
    message: string,
    readonly retryable = false,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = "CommyClientError";
  }
}

/** Maps the native module's errors to client codes (keeps native codes out of the app's sight). */
export function fromNativeError(e: unknown): CommyClientError {
  const code = (e as { code?: string }).code;
  const msg = (e as Error).message;
  switch (code) {
    case "COMMY_E_READ_ONLY":
      return new CommyClientError("READ_ONLY", msg, false, undefined, { cause: e });
    case "COMMY_E_TOO_LARGE":
      return new CommyClientError("VALUE_TOO_LARGE", msg, false, undefined, { cause: e });
    case "COMMY_E_STREAM_FULL":
      return new CommyClientError("STREAM_FULL", msg, true, undefined, { cause: e });
    case "COMMY_E_UNKNOWN_VARIABLE":
      return new CommyClientError("UNKNOWN_VARIABLE", msg, false, undefined, { cause: e });
    case "COMMY_E_CLOSED":
      return new CommyClientError("CLOSED", msg, false, undefined, { cause: e });
    case "COMMY_E_KIND":
      return new CommyClientError("WRONG_KIND", msg, false, undefined, { cause: e });
    default:
      return e instanceof CommyClientError ? e : new CommyClientError("INTERNAL", msg, false, undefined, { cause: e });
  }
}
