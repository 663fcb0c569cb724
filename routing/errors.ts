/**
 * One error type for the routing library. `code` is stable (the worker maps it onto its socket
 * protocol's error codes and its logs); `message` is for humans.
 */
export type RoutingErrorCode =
  /** A tenant, file or node id contains characters that would break the key layout or ACL patterns. */
  | "ROUTE_INVALID_ID"
  /** The producer's bounded local backlog is full (Redis down or too slow) and the record was refused. */
  | "ROUTE_BACKLOG_FULL"
  /** A payload is larger than the configured maximum. */
  | "ROUTE_PAYLOAD_TOO_LARGE"
  /** The producer or consumer was closed. */
  | "ROUTE_CLOSED"
  /** close() did not finish within its grace period. */
  | "ROUTE_CLOSE_TIMEOUT"
  /** A stream entry could not be decoded (wrong version, corrupted body). */
  | "ROUTE_BAD_ENTRY"
  /** Transport selection: a local-only file was asked to serve an attachment on another host. */
  | "TRANSPORT_LOCAL_ONLY_REMOTE_ATTACHMENT"
  /** Transport selection: a network transport is required but Redis is unreachable. */
  | "TRANSPORT_NETWORK_UNAVAILABLE"
  /** Transport selection: shared memory is required but unavailable (no /dev/shm space). */
  | "TRANSPORT_SHM_UNAVAILABLE"
  /** Invalid configuration given to the library. */
  | "ROUTE_INVALID_CONFIG";

export class RoutingError extends Error {
  override readonly name = "RoutingError";
  constructor(
    readonly code: RoutingErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function isRoutingError(err: unknown, code?: RoutingErrorCode): err is RoutingError {
  return err instanceof RoutingError && (code === undefined || err.code === code);
}
