/**
 * Building blocks shared by every contract: names, cursor pagination, the error envelope and
 * the conversion of zod issues into field errors.
 *
 * Pure module (zod only): imported by the control plane, the UI and the worker alike.
 */
import { z } from "zod";

/**
 * Names of shared files (and other URL-addressable things): lowercase, start with a letter or
 * digit, at most 128 characters. Kept URL-safe and filesystem-safe on purpose: the worker uses
 * the name in paths under its data directory and in Redis keys, and REST puts it in the path.
 */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,127}$/;

export const ZName = z
  .string()
  .regex(NAME_PATTERN, {
    message: "Use 1–128 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
  })
  .meta({ description: "Unique within the tenant. 1–128 characters: a-z, 0-9, '.', '_', '-'; starts with a letter or digit.", example: "sensors.temperature" });

/** An ISO-8601 timestamp as it appears in API output. */
export const ZTimestamp = z.iso.datetime({ offset: true }).meta({ description: "ISO-8601 timestamp (UTC).", example: "2026-01-01T12:00:00.000Z" });

// ---------------------------------------------------------------------------
// Cursor pagination
// ---------------------------------------------------------------------------

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/**
 * `?cursor=&limit=`. `limit` is coerced from the query string; an empty `cursor` means the
 * first page (so `?cursor=` works the same as leaving it out).
 */
export const ZPageQuery = z.object({
  cursor: z
    .string()
    .max(512)
    .optional()
    .transform((v) => (v === "" ? undefined : v))
    .meta({ description: "Opaque cursor from a previous page's `nextCursor`. Omit for the first page." }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .default(DEFAULT_PAGE_SIZE)
    .meta({ description: `Page size, 1–${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}).` }),
});
export type TPageQuery = z.output<typeof ZPageQuery>;
/** What list services take: a validated page query (cursor optional). */
export interface PageRequest {
  cursor?: string | undefined;
  limit: number;
}

/** A page of `item`, with the cursor of the next page (`null` on the last page). */
export function ZPage<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().meta({ description: "Pass as `cursor` to get the next page; null on the last page." }),
  });
}
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Cursors are opaque to clients (base64url of the last item's sort key), so the sort key can
 * change without breaking the API contract. A cursor that does not decode is a client error,
 * reported on the `cursor` field rather than silently restarting from the first page.
 */
export function encodeCursor(key: string): string {
  // btoa/TextEncoder rather than Buffer: this module is also bundled for the browser.
  let binary = "";
  for (const byte of new TextEncoder().encode(key)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Inverse of `encodeCursor`; `null` when the cursor is malformed. */
export function decodeCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor) || cursor.length % 4 === 1) return null;
  try {
    const binary = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
    const key = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    return key.length > 0 ? key : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/** Field path (dot-separated, e.g. `layout.slots.0.name`) → messages. Root errors use `_`. */
export const ZFieldErrors = z.record(z.string(), z.array(z.string())).meta({
  description: "Field path (dot-separated, `_` for the whole object) → messages.",
  example: { "layout.slots.0.maxSize": ["Too big: expected number to be <=16777216"] },
});

/** The one error shape of the REST API: `{ "error": { "code", "message", "fields"? } }`. */
export const ZErrorEnvelope = z.object({
  error: z.object({
    code: z.string().meta({ description: "Stable machine-readable code, e.g. API_KEY_REVOKED, VALIDATION_FAILED, NOT_FOUND.", example: "VALIDATION_FAILED" }),
    message: z.string().meta({ description: "Human-readable explanation, safe to show to users." }),
    fields: ZFieldErrors.optional(),
    requestId: z.string().optional().meta({ description: "Echo of the X-Request-Id response header; quote it when reporting a problem." }),
  }),
});
export type TErrorEnvelope = z.infer<typeof ZErrorEnvelope>;

/** Flattens zod issues to `path → messages`, keeping nested paths (zod's own flatten keeps only the first level). */
export function zodFieldErrors(error: z.ZodError): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.length > 0 ? issue.path.map(String).join(".") : "_";
    (fields[key] ??= []).push(issue.message);
  }
  return fields;
}
