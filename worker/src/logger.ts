/**
 * The worker's one pino logger. Child loggers carry context (session, attachment, request);
 * secrets are redacted by path so an API key, join token or node credential can never reach a
 * log line, whatever object is logged.
 */
import pino, { type Logger, type DestinationStream } from "pino";

export type { Logger } from "pino";

export const REDACT_PATHS = [
  "apiKey",
  "*.apiKey",
  "credential",
  "*.credential",
  "token",
  "*.token",
  "joinToken",
  "*.joinToken",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
];

/** Creates the process logger. `destination` is for tests; the daemon logs JSON to stdout. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "commy-worker", pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
