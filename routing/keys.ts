/**
 * Redis key layout for cross-node routing (docs/spec/redis-routing.md, "Keys").
 *
 * Every key of one shared file shares the hash tag `{t:<tenantId>:f:<fileId>}` so that, on a
 * Redis Cluster, the stream, its dead-letter stream and the per-node bookkeeping live in one
 * slot: the multi-key Lua scripts (commit = save state + XACK) stay legal there.
 *
 * Ids are restricted to `[A-Za-z0-9_-]{1,64}`: no `{`, `}` (would move the hash tag), no `:`
 * (would let tenant "a" match tenant "a:b" keys), no glob characters (would widen the
 * per-tenant ACL key pattern `~commy:{t:<tenantId>:*`).
 */
import { RoutingError } from "./errors";

export const KEY_PREFIX = "commy";
const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

export function assertId(kind: "tenant" | "file" | "node", id: string): void {
  if (typeof id !== "string" || !ID_RE.test(id)) {
    throw new RoutingError(
      "ROUTE_INVALID_ID",
      `invalid ${kind} id ${JSON.stringify(id)}: use 1-64 characters of A-Z a-z 0-9 _ -`,
      { kind, id },
    );
  }
}

/** Identifies one shared file of one tenant. */
export interface FileRef {
  tenantId: string;
  fileId: string;
}

export interface FileKeys {
  /** The hash tag, including braces. */
  tag: string;
  /** The file's data stream (frames of routed records). */
  stream: string;
  /** Dead-letter stream: records that failed to apply N times, with the error. */
  dlq: string;
  /** Hash holding one node's applied state (last applied id + dedupe window). */
  applied(nodeId: string): string;
}

export function fileKeys(ref: FileRef): FileKeys {
  assertId("tenant", ref.tenantId);
  assertId("file", ref.fileId);
  const tag = `{t:${ref.tenantId}:f:${ref.fileId}}`;
  const base = `${KEY_PREFIX}:${tag}`;
  return {
    tag,
    stream: `${base}:stream`,
    dlq: `${base}:dlq`,
    applied(nodeId: string) {
      assertId("node", nodeId);
      return `${base}:applied:${nodeId}`;
    },
  };
}

/** The key pattern that covers every key of one tenant (used in ACL rules). */
export function tenantKeyPattern(tenantId: string): string {
  assertId("tenant", tenantId);
  return `${KEY_PREFIX}:{t:${tenantId}:*`;
}

/** Consumer group names: broadcast files give every node its own group, queue files share one. */
export function groupName(pattern: "broadcast" | "queue", nodeId: string): string {
  assertId("node", nodeId);
  return pattern === "queue" ? "q" : `b:${nodeId}`;
}
