/**
 * Presence: which nodes have attachments on a shared file, and where those nodes are (boot id and
 * IPC namespace), published in Redis next to the file's stream so transport selection works
 * from Redis alone, with the control plane down (docs/spec/redis-routing.md, "Presence").
 *
 * Hash `commy:{t:<tenantId>:f:<fileId>}:presence`, one field per node id, value a JSON object:
 *   { "v": 1, "nodeId", "bootId", "ipcNamespace", "attachments": [{ "id", "side" }],
 *     "at": <ms>, "expiresAt": <ms> }
 * A node refreshes its field every few seconds while it has attachments on the file (expiresAt
 * a few refresh intervals ahead) and writes `attachments: []` with `expiresAt: now` when its last
 * attachment goes. Readers ignore expired entries, so a crashed node's presence disappears on its
 * own; HSET is the only write (the tenant ACL grants no HDEL or EXPIRE).
 */
import type { RedisClient } from "./connection";
import { assertId, fileKeys, type FileRef } from "./keys";
import type { AttachmentLocation, HostIdentity } from "./transport-selection";

export const PRESENCE_VERSION = 1;

export interface PresenceAttachment {
  id: string;
  side: "producer" | "consumer";
}

export interface PresenceEntry extends HostIdentity {
  attachments: PresenceAttachment[];
  /** When it was written, ms. */
  at: number;
  /** Readers ignore the entry after this, ms. */
  expiresAt: number;
}

export function presenceKey(ref: FileRef): string {
  return `${fileKeys(ref).stream.slice(0, -":stream".length)}:presence`;
}

/** Writes (or refreshes) this node's presence on a file. */
export async function publishPresence(client: RedisClient, ref: FileRef, host: HostIdentity, attachments: PresenceAttachment[], ttlMs: number, now = Date.now()): Promise<void> {
  assertId("node", host.nodeId);
  const entry: PresenceEntry & { v: number } = {
    v: PRESENCE_VERSION,
    nodeId: host.nodeId,
    bootId: host.bootId,
    ipcNamespace: host.ipcNamespace,
    attachments,
    at: now,
    expiresAt: attachments.length ? now + ttlMs : now,
  };
  await client.call("HSET", [presenceKey(ref), host.nodeId, JSON.stringify(entry)]);
}

/** Parses one presence field; null when malformed (other writers' garbage is ignored, not fatal). */
export function parsePresence(field: string, raw: string): PresenceEntry | null {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  if (o.v !== PRESENCE_VERSION || o.nodeId !== field || typeof o.bootId !== "string" || typeof o.ipcNamespace !== "string") return null;
  if (typeof o.at !== "number" || typeof o.expiresAt !== "number" || !Array.isArray(o.attachments)) return null;
  const attachments: PresenceAttachment[] = [];
  for (const a of o.attachments.slice(0, 10_000) as unknown[]) {
    const x = a as Record<string, unknown>;
    if (!x || typeof x.id !== "string" || x.id.length > 200 || (x.side !== "producer" && x.side !== "consumer")) return null;
    attachments.push({ id: x.id, side: x.side });
  }
  return { nodeId: field, bootId: o.bootId.slice(0, 64), ipcNamespace: o.ipcNamespace.slice(0, 64), attachments, at: o.at, expiresAt: o.expiresAt };
}

/** Live presence entries of a file (expired and malformed ones left out), by node id. */
export async function readPresence(client: RedisClient, ref: FileRef, now = Date.now()): Promise<Map<string, PresenceEntry>> {
  const flat = (await client.call("HGETALL", [presenceKey(ref)])) as string[] | Record<string, string>;
  const pairs: [string, string][] = Array.isArray(flat)
    ? Array.from({ length: Math.floor(flat.length / 2) }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!])
    : Object.entries(flat);
  const out = new Map<string, PresenceEntry>();
  for (const [field, raw] of pairs) {
    const e = parsePresence(field, raw);
    if (e && e.expiresAt > now && e.attachments.length) out.set(field, e);
  }
  return out;
}

/** The attachments of every node but `exceptNodeId`, as selectTransport peers. */
export function presencePeers(entries: Map<string, PresenceEntry>, exceptNodeId: string): AttachmentLocation[] {
  const peers: AttachmentLocation[] = [];
  for (const e of entries.values()) {
    if (e.nodeId === exceptNodeId) continue;
    for (const a of e.attachments) peers.push({ attachmentId: a.id, side: a.side, host: { nodeId: e.nodeId, bootId: e.bootId, ipcNamespace: e.ipcNamespace } });
  }
  return peers;
}
