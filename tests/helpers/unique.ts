import { randomBytes } from "node:crypto";

/**
 * A name no other test (or earlier run against the same database) uses: `prefix-<12 hex>`.
 * Integration tests share one database per run, so every row they create gets one of these.
 */
export function uniqueName(prefix = "t"): string {
  return `${prefix}-${randomBytes(6).toString("hex")}`;
}

/** A unique e-mail address the local OIDC provider accepts in test mode (password `e2e`). */
export function uniqueEmail(prefix = "user"): string {
  return `${uniqueName(prefix)}@e2e.test`;
}
