import pino from "pino";

/**
 * The control plane's one logger. Secrets never reach it: authorization headers, cookies and
 * anything named like a token or secret are redacted.
 */
export const logger = pino({
  name: "commy",
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === "test" ? "silent" : "info"),
  redact: {
    paths: ["req.headers.authorization", "req.headers.cookie", "*.token", "*.secret", "*.password", "*.rawKey", "*.sessionToken"],
    censor: "[redacted]",
  },
});
