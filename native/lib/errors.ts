/**
 * Typed errors of the native module. Every failure the module reports is a
 * {@link CommyError} whose `code` is one of {@link CommyErrorCode}; the codes
 * are stable API (the worker maps them onto its socket protocol).
 */

/** Stable error codes. */
export const CommyErrorCodes = [
  "COMMY_E_INVALID_ARGUMENT", // bad option or argument (message says which)
  "COMMY_E_IO", // an operating-system call failed (message has errno text)
  "COMMY_E_EXISTS", // create() without overwrite on an existing path
  "COMMY_E_NOT_FOUND", // open() of a missing file, or create() in a missing directory
  "COMMY_E_BAD_MAGIC", // not a Commy shared file (foreign file)
  "COMMY_E_VERSION", // written by a newer format version
  "COMMY_E_TRUNCATED", // shorter than its header says
  "COMMY_E_CORRUPT", // header or data inconsistent
  "COMMY_E_READ_ONLY", // write through a read-only handle
  "COMMY_E_CLOSED", // use after close()
  "COMMY_E_TOO_LARGE", // value/message/file larger than allowed
  "COMMY_E_STREAM_FULL", // overflow "refuse" and the slowest consumer has not caught up
  "COMMY_E_LOCK_TIMEOUT", // a live process held a lock longer than lockTimeoutMs
  "COMMY_E_TABLE_FULL", // participant or consumer table full
  "COMMY_E_UNKNOWN_VARIABLE", // variable() with a name not in the file
  "COMMY_E_KIND", // variables API on a stream file or vice versa
] as const;

export type CommyErrorCode = (typeof CommyErrorCodes)[number];

const known = new Set<string>(CommyErrorCodes);

/** An error from the shared-file module, always carrying a stable `code`. */
export class CommyError extends Error {
  readonly code: CommyErrorCode;

  constructor(code: CommyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CommyError";
    this.code = code;
  }
}

/** Converts an error thrown by the addon (an Error with a `code`) into a CommyError. */
export function fromNative(err: unknown): CommyError {
  if (err instanceof CommyError) return err;
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    if (typeof code === "string" && known.has(code)) return new CommyError(code as CommyErrorCode, err.message);
    return new CommyError("COMMY_E_IO", err.message, { cause: err });
  }
  return new CommyError("COMMY_E_IO", String(err));
}

/** Runs a native call, rethrowing its errors as CommyError. */
export function native<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw fromNative(err);
  }
}
