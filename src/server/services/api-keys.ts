/**
 * API keys: create (secret shown once), list, revoke, and authenticate.
 *
 * Key format `cmy_<prefix>_<secret>` (see `api-key-secret.ts`): the public prefix finds the row
 * with one indexed query; only the SHA-256 of the secret is stored, compared in constant time.
 *
 * Authentication is on every API request's hot path, so it is kept cheap: a key row read from
 * the database is cached in-process for at most `API_KEY_CACHE_TTL_MS` (2 s). Revocation is
 * therefore immediate in the process that revoked the key and takes at most 2 s in every other
 * process (other replicas, other `COMMY_HTTP_WORKERS`); expiry is checked on every request
 * against the cached `expiresAt`, so it is exact. The secret's hash is compared on every request.
 */
import type { Prisma } from "~/generated/prisma";
import type { Actor, RequestMeta, TenantContext } from "~/server/actor";
import { allowed, authorize } from "~/server/actor";
import { recordAudit } from "~/server/audit";
import { SCOPE_PERMISSIONS, type ApiKeyScope } from "~/server/auth/permissions";
import { ZApiKeyCreate, nameMatchesPatterns, type TApiKey, type TApiKeyCreateInput, type TApiKeyCreated } from "~/server/contracts/api-key";
import { decodeCursor, encodeCursor, zodFieldErrors, type Page, type PageRequest } from "~/server/contracts/common";
import { db } from "~/server/db";
import { AppError } from "~/server/errors";
import { apiKeySecretMatches, generateApiKey, parseApiKey } from "./api-key-secret";
import { RateLimitedError, hitFixedWindow } from "./rate-limit";

export {
  API_KEY_PREFIX_LENGTH,
  apiKeySecretMatches,
  generateApiKey,
  hashApiKeySecret,
  parseApiKey,
  type GeneratedApiKey,
} from "./api-key-secret";

// ---------------------------------------------------------------------------
// File-name patterns
// ---------------------------------------------------------------------------

/**
 * Whether the actor may touch the shared file `fileName` at all. Only API keys are restricted
 * (by their `filePatterns` globs); users are governed by their role alone, nodes by their
 * tenant. Used by the shared-file service on every read and write.
 */
export function keyMayAccessFile(actor: Actor, fileName: string): boolean {
  return actor.type !== "API_KEY" || nameMatchesPatterns(actor.filePatterns, fileName);
}

// ---------------------------------------------------------------------------
// Create, list, revoke
// ---------------------------------------------------------------------------

const apiKeyView = {
  id: true,
  name: true,
  prefix: true,
  scopes: true,
  filePatterns: true,
  expiresAt: true,
  lastUsedAt: true,
  revokedAt: true,
  createdAt: true,
} satisfies Prisma.ApiKeySelect;
type ApiKeyRow = Prisma.ApiKeyGetPayload<{ select: typeof apiKeyView }>;

function toApiKey(row: ApiKeyRow, now = Date.now()): TApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    filePatterns: row.filePatterns,
    status: row.revokedAt ? "revoked" : row.expiresAt && row.expiresAt.getTime() <= now ? "expired" : "active",
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Where-builder: every key query is scoped to the verified tenant. */
const inTenant = (ctx: TenantContext): { tenantId: string } => ({ tenantId: ctx.tenantId });

function isUniqueViolation(e: unknown, field: string): boolean {
  if (typeof e !== "object" || e === null || (e as { code?: unknown }).code !== "P2002") return false;
  const target = (e as { meta?: { target?: unknown } }).meta?.target;
  const text = Array.isArray(target) ? target.join(",") : String(target ?? "");
  // The driver adapter does not always name the columns; treat an unnamed violation as a match.
  return text === "" || text === "undefined" || text.includes(field);
}

/**
 * Creates a key and returns it with its secret, which is never retrievable again.
 * A key cannot carry more than its creator may do: every permission behind the requested
 * scopes must be allowed to the creator too.
 */
export async function createApiKey(ctx: TenantContext, input: TApiKeyCreateInput): Promise<TApiKeyCreated> {
  authorize(ctx, "apikey:create");
  const parsed = ZApiKeyCreate.safeParse(input);
  if (!parsed.success) throw AppError.validation(zodFieldErrors(parsed.error));
  const { name, scopes, filePatterns, expiresAt } = parsed.data;

  const beyond = scopes.filter((s) => SCOPE_PERMISSIONS[s as ApiKeyScope].some((p) => !allowed(ctx, p)));
  if (beyond.length > 0) {
    throw AppError.validation({ scopes: [`You cannot grant scopes beyond your own role: ${beyond.join(", ")}`] });
  }

  // Prefix collisions are astronomically unlikely (36^10), but cheap to survive.
  for (let attempt = 0; ; attempt++) {
    const key = generateApiKey();
    try {
      const row = await db.$transaction(async (tx) => {
        const created = await tx.apiKey.create({
          data: {
            ...inTenant(ctx),
            name,
            prefix: key.prefix,
            hash: key.hash,
            scopes: [...new Set(scopes)],
            filePatterns: [...new Set(filePatterns)],
            expiresAt,
            createdById: ctx.actor.type === "USER" ? ctx.actor.userId : null,
          },
          select: apiKeyView,
        });
        await recordAudit(tx, ctx, {
          action: "apikey.created",
          target: { type: "apiKey", id: created.id },
          after: { name, prefix: created.prefix, scopes: created.scopes, filePatterns: created.filePatterns, expiresAt: created.expiresAt?.toISOString() ?? null },
        });
        return created;
      });
      return { apiKey: toApiKey(row), secret: key.raw };
    } catch (e) {
      if (isUniqueViolation(e, "prefix") && !isUniqueViolation(e, "name") && attempt < 3) continue;
      if (isUniqueViolation(e, "name")) {
        const existing = await db.apiKey.findFirst({ where: { ...inTenant(ctx), name }, select: { id: true } });
        if (existing) throw new AppError("CONFLICT", "An API key with this name already exists", { fields: { name: ["An API key with this name already exists"] } });
        if (attempt < 3) continue;
      }
      throw e;
    }
  }
}

/** Keys of the tenant, by name, with cursor pagination. Never returns secrets or hashes. */
export async function listApiKeys(ctx: TenantContext, query: PageRequest): Promise<Page<TApiKey>> {
  authorize(ctx, "apikey:read");
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  if (query.cursor && after === null) throw AppError.validation({ cursor: ["Invalid cursor"] });
  const rows = await db.apiKey.findMany({
    where: { ...inTenant(ctx), ...(after !== null ? { name: { gt: after } } : {}) },
    orderBy: { name: "asc" },
    take: query.limit + 1,
    select: apiKeyView,
  });
  const page = rows.slice(0, query.limit);
  const now = Date.now();
  return {
    items: page.map((r) => toApiKey(r, now)),
    nextCursor: rows.length > query.limit ? encodeCursor(page[page.length - 1]!.name) : null,
  };
}

/** Revokes a key (idempotent: revoking a revoked key returns it unchanged and audits nothing). */
export async function revokeApiKey(ctx: TenantContext, input: { id: string }): Promise<TApiKey> {
  authorize(ctx, "apikey:revoke");
  const row = await db.$transaction(async (tx) => {
    const current = await tx.apiKey.findFirst({ where: { ...inTenant(ctx), id: input.id }, select: apiKeyView });
    if (!current) throw AppError.notFound("API key");
    if (current.revokedAt) return current;
    // Conditional update: two concurrent revocations produce one audit event, not two.
    const updated = await tx.apiKey.updateMany({ where: { id: current.id, revokedAt: null }, data: { revokedAt: new Date() } });
    const revoked = await tx.apiKey.findUniqueOrThrow({ where: { id: current.id }, select: apiKeyView });
    if (updated.count === 1) {
      await recordAudit(tx, ctx, {
        action: "apikey.revoked",
        target: { type: "apiKey", id: current.id },
        before: { name: current.name, prefix: current.prefix, revokedAt: null },
        after: { name: current.name, prefix: current.prefix, revokedAt: revoked.revokedAt?.toISOString() ?? null },
      });
    }
    return revoked;
  });
  forgetCachedKey(row.prefix);
  return toApiKey(row);
}

// ---------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------

/** How long a key row read from the database is trusted in-process (revocation latency in other processes). */
export const API_KEY_CACHE_TTL_MS = 2_000;
/** `lastUsedAt` is written at most this often per key, so reads stay reads. */
export const LAST_USED_THROTTLE_MS = 60_000;
/** Failed authentications allowed per IP per window before 429. */
export const AUTH_FAILURE_LIMIT = 20;
export const AUTH_FAILURE_WINDOW_SECONDS = 60;

interface KeyRecord {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  hash: string;
  scopes: string[];
  filePatterns: string[];
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

interface CacheEntry {
  fetchedAt: number;
  /** Shared by concurrent misses, so a burst of requests with one key makes one query. */
  record: Promise<KeyRecord | null>;
}

const MAX_CACHED_KEYS = 10_000;

/**
 * The caches live on `globalThis`, not in this module: the app server loads this module once
 * for the routes it serves directly and Next.js's bundle has its own copy (tRPC, the UI). Both
 * copies must see one cache, so that a revocation through either invalidates it for both.
 */
interface ApiKeyCaches {
  keys: Map<string, CacheEntry>;
  lastTouched: Map<string, number>;
  /** IP → epoch ms until which it is refused without asking the database (set after a 429). */
  blockedIps: Map<string, number>;
}
const CACHES = Symbol.for("commy.apiKeyCaches");
const caches: ApiKeyCaches = ((globalThis as unknown as Record<symbol, ApiKeyCaches | undefined>)[CACHES] ??= {
  keys: new Map(),
  lastTouched: new Map(),
  blockedIps: new Map(),
});
const keyCache = caches.keys;
const lastTouched = caches.lastTouched;
const blockedIps = caches.blockedIps;

function loadKey(prefix: string): Promise<KeyRecord | null> {
  const now = Date.now();
  const cached = keyCache.get(prefix);
  if (cached && now - cached.fetchedAt < API_KEY_CACHE_TTL_MS) return cached.record;
  // Deliberately unscoped: the prefix is what tells us the tenant. Nothing from the row is
  // trusted until the secret matched.
  const record = db.apiKey.findUnique({
    where: { prefix },
    select: { id: true, tenantId: true, name: true, prefix: true, hash: true, scopes: true, filePatterns: true, expiresAt: true, revokedAt: true, lastUsedAt: true },
  });
  if (keyCache.size >= MAX_CACHED_KEYS) keyCache.delete(keyCache.keys().next().value!);
  const entry: CacheEntry = { fetchedAt: now, record };
  keyCache.set(prefix, entry);
  // A failed query must not be cached.
  record.catch(() => {
    if (keyCache.get(prefix) === entry) keyCache.delete(prefix);
  });
  return record;
}

function forgetCachedKey(prefix: string): void {
  keyCache.delete(prefix);
}

/** Test helper: empty the in-process caches (keys, lastUsed throttle, blocked IPs). */
export function resetApiKeyCaches(): void {
  keyCache.clear();
  lastTouched.clear();
  blockedIps.clear();
}

function touchLastUsed(record: KeyRecord): void {
  const now = Date.now();
  const last = Math.max(lastTouched.get(record.id) ?? 0, record.lastUsedAt?.getTime() ?? 0);
  if (now - last < LAST_USED_THROTTLE_MS) return;
  lastTouched.set(record.id, now);
  if (lastTouched.size > MAX_CACHED_KEYS) lastTouched.delete(lastTouched.keys().next().value!);
  // Off the request path; conditional so that replicas racing on the same key write once.
  // Prisma stores DateTime as UTC in `timestamp` columns: compare and write in UTC too.
  void db.$executeRaw`
    UPDATE "ApiKey" SET "lastUsedAt" = (now() AT TIME ZONE 'UTC')
    WHERE "id" = ${record.id}
      AND ("lastUsedAt" IS NULL OR "lastUsedAt" < (now() AT TIME ZONE 'UTC') - make_interval(secs => ${LAST_USED_THROTTLE_MS / 1000}::int))`.catch(
    (e: unknown) => console.error("apiKey.lastUsedAt update failed", e),
  );
}

function keyActor(record: KeyRecord): Extract<Actor, { type: "API_KEY" }> {
  return {
    type: "API_KEY",
    apiKeyId: record.id,
    tenantId: record.tenantId,
    scopes: record.scopes,
    filePatterns: record.filePatterns,
    label: `API key "${record.name}" (cmy_${record.prefix})`,
  };
}

type FailureCode = "API_KEY_INVALID" | "API_KEY_REVOKED" | "API_KEY_EXPIRED";

const FAILURE_MESSAGES: Record<FailureCode, (r: KeyRecord | null) => string> = {
  API_KEY_INVALID: () => "The API key is not valid. Check that it was copied completely (it looks like cmy_<prefix>_<secret>).",
  API_KEY_REVOKED: (r) => `This API key was revoked${r?.revokedAt ? ` on ${r.revokedAt.toISOString()}` : ""}. Create a new key.`,
  API_KEY_EXPIRED: (r) => `This API key expired${r?.expiresAt ? ` on ${r.expiresAt.toISOString()}` : ""}. Create a new key.`,
};

function rateLimited(retryAfterSeconds: number): RateLimitedError {
  return new RateLimitedError(`Too many failed authentications from your address. Retry in ${Math.ceil(retryAfterSeconds)} s.`, retryAfterSeconds);
}

/**
 * Counts the failure against the caller's IP, audits it, and returns the error to throw.
 *
 * Audited to the key's tenant chain when the prefix matched a key (the tenant wants to know
 * someone holds a broken or revoked key of theirs), else to the platform chain. Once an IP is
 * over the limit, further failures are refused with 429 and not audited one by one (only the
 * first refusal of a window is), so a flood cannot flood the log.
 */
async function failAuthentication(code: FailureCode, record: KeyRecord | null, reason: string, meta: RequestMeta, prefix: string | null): Promise<AppError> {
  const ip = meta.ip ?? "unknown";
  const hit = await hitFixedWindow(`apikey-auth:${ip}`, AUTH_FAILURE_WINDOW_SECONDS);
  const over = hit.count > AUTH_FAILURE_LIMIT;
  if (over) blockedIps.set(ip, Date.now() + hit.retryAfterSeconds * 1000);
  if (!over || hit.count === AUTH_FAILURE_LIMIT + 1) {
    await db.$transaction(async (tx) => {
      await recordAudit(
        tx,
        { actor: { type: "ANONYMOUS", label: prefix ? `API key cmy_${prefix}` : "unrecognised API key" }, tenantId: record?.tenantId ?? null, meta },
        {
          action: "apikey.auth_failed",
          target: record ? { type: "apiKey", id: record.id } : null,
          outcome: "DENIED",
          after: { reason: over ? "rate_limited" : reason, code: over ? "RATE_LIMITED" : code, prefix },
        },
      );
    });
  }
  return over ? rateLimited(hit.retryAfterSeconds) : new AppError(code, FAILURE_MESSAGES[code](record), { internal: `${code}: ${reason}` });
}

/**
 * Authenticates a raw API key (the part after `Bearer `). Returns the API-key actor and the
 * key's tenant (verified: the tenant is the key's own), or throws:
 * - API_KEY_INVALID (401): malformed, unknown prefix, or wrong secret — one code for all three,
 *   so a caller cannot probe which prefixes exist;
 * - API_KEY_REVOKED / API_KEY_EXPIRED (401): only after the secret matched (so these reveal
 *   nothing to someone who does not hold the key);
 * - RATE_LIMITED (429, `retryAfterSeconds`): too many failures from this IP in the window.
 *
 * Cost on success: the cached row (≤ 2 s old) or one indexed query by prefix, one SHA-256.
 */
export async function authenticateApiKey(rawKey: string, meta: RequestMeta): Promise<{ actor: Extract<Actor, { type: "API_KEY" }>; tenantId: string }> {
  const ip = meta.ip ?? "unknown";
  const blockedUntil = blockedIps.get(ip);
  if (blockedUntil !== undefined) {
    if (blockedUntil > Date.now()) throw rateLimited((blockedUntil - Date.now()) / 1000);
    blockedIps.delete(ip);
  }

  const parsed = parseApiKey(rawKey);
  if (!parsed) throw await failAuthentication("API_KEY_INVALID", null, "malformed", meta, null);
  const record = await loadKey(parsed.prefix);
  if (!record) throw await failAuthentication("API_KEY_INVALID", null, "unknown prefix", meta, parsed.prefix);
  if (!apiKeySecretMatches(parsed.secret, record.hash)) throw await failAuthentication("API_KEY_INVALID", record, "wrong secret", meta, parsed.prefix);
  if (record.revokedAt) throw await failAuthentication("API_KEY_REVOKED", record, "revoked", meta, parsed.prefix);
  if (record.expiresAt && record.expiresAt.getTime() <= Date.now()) throw await failAuthentication("API_KEY_EXPIRED", record, "expired", meta, parsed.prefix);

  touchLastUsed(record);
  return { actor: keyActor(record), tenantId: record.tenantId };
}

/** The tenant context of an authenticated key (API keys have no role: their scopes decide). */
export function apiKeyTenantContext(auth: { actor: Actor; tenantId: string }, meta: RequestMeta): TenantContext {
  return { actor: auth.actor, tenantId: auth.tenantId, role: null, meta };
}
