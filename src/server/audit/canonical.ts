import { createHash } from "node:crypto";

/**
 * Canonical form and hash of an audit event. Pure: no database, safe to unit test and to
 * reimplement elsewhere (an auditor can re-verify an export with ~20 lines of code).
 *
 * The hash of an event is SHA-256 (hex) over `canonicalJson(canonicalAuditFields(event))`:
 * - an explicit, versioned field list (below); adding a column does not silently change old
 *   hashes, and removing one from the hash needs a new `v`;
 * - object keys sorted (recursively, so `before`/`after` hash the same after a round trip
 *   through jsonb, which reorders keys), no whitespace, `undefined` keys dropped;
 * - `occurredAt` as an ISO-8601 UTC string with milliseconds (the column's precision);
 * - `prevHash` included: changing or removing any earlier event breaks every later link.
 */

/** prevHash of the first event of a chain. */
export const GENESIS_HASH = "0".repeat(64);

/** Version of the canonical form; part of the hashed content. */
export const CANONICAL_VERSION = 1;

export type JsonLike = null | boolean | number | string | JsonLike[] | { [key: string]: JsonLike };

/** The fields of an audit event that its hash covers. */
export interface HashedAuditFields {
  chainId: string;
  seq: number;
  tenantId: string | null;
  occurredAt: Date;
  actorType: string;
  actorId: string | null;
  actorLabel: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  before: unknown;
  after: unknown;
  outcome: string;
  prevHash: string;
}

/** JSON with keys sorted at every level and no insignificant whitespace. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`);
      return JSON.stringify(value);
    case "string":
      return JSON.stringify(value);
    case "bigint":
      return JSON.stringify(value.toString());
    case "object": {
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(",")}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined && typeof v !== "function")
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode ${typeof value}`);
  }
}

/**
 * Normalizes a before/after payload to what jsonb stores and returns (dates → ISO strings,
 * undefined dropped), so the hash computed at write time equals the hash recomputed from the
 * row later. `undefined`/`null` → null (SQL NULL).
 */
export function normalizeJson(value: unknown): JsonLike {
  if (value === undefined || value === null) return null;
  return JSON.parse(JSON.stringify(value)) as JsonLike;
}

/** The exact object that is hashed, in the canonical field list. */
export function canonicalAuditFields(e: HashedAuditFields): Record<string, JsonLike> {
  return {
    v: CANONICAL_VERSION,
    chainId: e.chainId,
    seq: e.seq,
    tenantId: e.tenantId,
    occurredAt: e.occurredAt.toISOString(),
    actorType: e.actorType,
    actorId: e.actorId,
    actorLabel: e.actorLabel,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    ip: e.ip,
    userAgent: e.userAgent,
    requestId: e.requestId,
    before: normalizeJson(e.before),
    after: normalizeJson(e.after),
    outcome: e.outcome,
    prevHash: e.prevHash,
  };
}

/** SHA-256 (hex) of the event's canonical form. */
export function hashAuditEvent(e: HashedAuditFields): string {
  return createHash("sha256").update(canonicalJson(canonicalAuditFields(e)), "utf8").digest("hex");
}

/** The first problem found while walking a chain, or null when every link holds. */
export interface BrokenLink {
  seq: number;
  id: string;
  reason: "hash_mismatch" | "prev_hash_mismatch" | "seq_gap" | "head_mismatch";
  expected: string;
  actual: string;
}

/**
 * Checks a run of events (ascending seq) against a starting anchor. Pure; used by
 * `verifyChain` page by page and by tests.
 */
export function checkLinks(
  events: readonly (HashedAuditFields & { id: string; hash: string })[],
  start: { seq: number; hash: string },
): { broken: BrokenLink | null; last: { seq: number; hash: string } } {
  let prev = start;
  for (const e of events) {
    if (e.seq !== prev.seq + 1) {
      return { broken: { seq: e.seq, id: e.id, reason: "seq_gap", expected: String(prev.seq + 1), actual: String(e.seq) }, last: prev };
    }
    if (e.prevHash !== prev.hash) {
      return { broken: { seq: e.seq, id: e.id, reason: "prev_hash_mismatch", expected: prev.hash, actual: e.prevHash }, last: prev };
    }
    const recomputed = hashAuditEvent(e);
    if (recomputed !== e.hash) {
      return { broken: { seq: e.seq, id: e.id, reason: "hash_mismatch", expected: recomputed, actual: e.hash }, last: prev };
    }
    prev = { seq: e.seq, hash: e.hash };
  }
  return { broken: null, last: prev };
}
