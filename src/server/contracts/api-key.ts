/**
 * API keys: create input and the shapes returned by create (secret shown once) and list.
 *
 * Pure module (zod only).
 */
import { z } from "zod";
import { API_KEY_SCOPES } from "../auth/permissions";
import { ZTimestamp } from "./common";

export const API_KEY_SCOPE_HELP: Record<(typeof API_KEY_SCOPES)[number], string> = {
  "tenant:read": "Read the tenant's name and settings.",
  "members:read": "List members and their roles.",
  "files:read": "List and read shared-file declarations.",
  "files:write": "Create, change and delete shared-file declarations.",
  "data:read": "Attach to shared files and read their data.",
  "data:write": "Attach to shared files and write their data.",
  "nodes:read": "List worker nodes and their health.",
  "nodes:manage": "Manage worker nodes and worker settings.",
  "audit:read": "Query, export and verify the audit log.",
};

/**
 * Glob over shared-file names: the name alphabet plus `*` (any run of characters) and `?` (one
 * character). Nothing else, so that translating a pattern to SQL LIKE or a RegExp is trivial
 * and cannot be abused (no character classes, no backtracking blow-up).
 */
export const FILE_PATTERN_PATTERN = /^[a-z0-9._*?-]{1,128}$/;

export const ZFilePattern = z
  .string()
  .regex(FILE_PATTERN_PATTERN, { message: "Use 1–128 characters: a-z, 0-9, '.', '_', '-', and the wildcards '*' and '?'" })
  .meta({ description: "Shared-file name glob: `*` matches any characters, `?` one character.", example: "sensors.*" });

export const ZApiKeyName = z
  .string()
  .trim()
  .min(1, { message: "Give the key a name" })
  .max(64, { message: "At most 64 characters" })
  .meta({ description: "Unique within the tenant; says who or what uses the key.", example: "ingest service (prod)" });

export const ZApiKeyCreate = z
  .object({
    name: ZApiKeyName,
    scopes: z
      .array(z.enum(API_KEY_SCOPES))
      .min(1, { message: "Choose at least one scope" })
      .max(API_KEY_SCOPES.length)
      .refine((s) => new Set(s).size === s.length, { message: "Each scope may appear only once" })
      .meta({ description: "What the key may do. A key can never manage members, keys or the tenant." }),
    filePatterns: z
      .array(ZFilePattern)
      .max(32)
      .default([])
      .meta({ description: "Restrict the key to shared files whose name matches one of these globs; empty: every file." }),
    expiresAt: z
      .union([z.iso.datetime({ offset: true }), z.date()])
      .nullable()
      .default(null)
      .transform((v) => (v === null ? null : new Date(v)))
      .refine((d) => d === null || d.getTime() > Date.now(), { message: "Choose a time in the future" })
      .meta({ description: "When the key stops working (ISO-8601); null: never." }),
  });
export type TApiKeyCreateInput = z.input<typeof ZApiKeyCreate>;
export type TApiKeyCreate = z.output<typeof ZApiKeyCreate>;

export const API_KEY_STATUSES = ["active", "revoked", "expired"] as const;

/** An API key as lists show it: never the secret, never the hash. */
export const ZApiKey = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().meta({ description: "Public part of the key (`cmy_<prefix>_…`), to recognise it." }),
  scopes: z.array(z.string()),
  filePatterns: z.array(z.string()),
  status: z.enum(API_KEY_STATUSES),
  expiresAt: ZTimestamp.nullable(),
  lastUsedAt: ZTimestamp.nullable().meta({ description: "Last successful use (updated at most once a minute)." }),
  revokedAt: ZTimestamp.nullable(),
  createdAt: ZTimestamp,
});
export type TApiKey = z.output<typeof ZApiKey>;

/** Result of create: the key plus the full secret, which is shown this once and never stored. */
export const ZApiKeyCreated = z.object({
  apiKey: ZApiKey,
  secret: z.string().meta({ description: "The full key, `cmy_<prefix>_<secret>`. Shown once; store it now.", example: "cmy_k3j9x2m1qa_AbC…" }),
});
export type TApiKeyCreated = z.output<typeof ZApiKeyCreated>;

export const ZApiKeyIdInput = z.object({ id: z.string().min(1).max(64) }).strict();

// ---------------------------------------------------------------------------
// File-name globs (shared by the control plane, the worker and the UI's preview)
// ---------------------------------------------------------------------------

const globCache = new Map<string, RegExp>();

/** `sensors.*` → /^sensors\..*$/ — only `*` and `?` are special; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (!re) {
    const body = glob.replace(/[.+^${}()|[\]\\-]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    re = new RegExp(`^${body}$`);
    if (globCache.size > 1000) globCache.clear(); // patterns come from a small, stored set; just bound it
    globCache.set(glob, re);
  }
  return re;
}

/**
 * `sensors.*` → `sensors.%` for SQL `LIKE … ESCAPE '\'`: `%` and `_` are literal in names
 * (`_` is a legal name character), so they are escaped first.
 */
export function globToLike(glob: string): string {
  return glob.replace(/[\\%_]/g, "\\$&").replace(/\*/g, "%").replace(/\?/g, "_");
}

/** Whether `name` matches one of `patterns`; an empty list allows every name. */
export function nameMatchesPatterns(patterns: readonly string[], name: string): boolean {
  return patterns.length === 0 || patterns.some((p) => globToRegExp(p).test(name));
}
