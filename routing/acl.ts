/**
 * Tenant isolation in Redis: one ACL user per tenant whose key pattern covers only that
 * tenant's keys (`~commy:{t:<tenantId>:*`), with just the commands routing needs. A worker of
 * tenant A holding A's credentials gets NOPERM on anything of tenant B.
 *
 * Commands granted and why:
 *  +@stream            XADD/XREADGROUP/XACK/XAUTOCLAIM/XGROUP/XRANGE/XLEN/XINFO… (keys still checked)
 *  +@connection        AUTH, HELLO, PING, CLIENT SETNAME…
 *  +hget +hmget +hset +hgetall +del  applied-state and variable-snapshot hashes (tenant keys only;
 *                      HGET/HSET also run inside the XADD+snapshot script)
 *  +eval +evalsha      the commit script; Redis 7 checks the script's KEYS against the pattern
 *  +info               ioredis' ready check (INFO shows server stats, not other tenants' data)
 *  +cluster|slots +cluster|shards +cluster|nodes +cluster|info +readonly  Cluster clients' slot discovery
 * No pub/sub channels (resetchannels), no KEYS/SCAN, no FLUSH*, no CONFIG, no ACL.
 */
import type { RedisClient } from "./connection";
import { Cluster } from "ioredis";
import { assertId, tenantKeyPattern } from "./keys";

export function tenantRedisUsername(tenantId: string): string {
  assertId("tenant", tenantId);
  return `commy-t-${tenantId}`;
}

/** The ACL SETUSER arguments (after the user name) for a tenant's worker credentials. */
export function tenantAclRules(tenantId: string, password: string): string[] {
  if (!password || /\s/.test(password)) throw new Error("tenant Redis password must be non-empty without whitespace");
  return [
    "reset", "on", `>${password}`,
    `~${tenantKeyPattern(tenantId)}`,
    "resetchannels",
    "+@stream", "+@connection",
    "+hget", "+hmget", "+hset", "+hgetall", "+del",
    "+eval", "+evalsha",
    "+info",
    "+cluster|slots", "+cluster|shards", "+cluster|nodes", "+cluster|info", "+readonly",
  ];
}

async function onEveryNode(admin: RedisClient, fn: (node: RedisClient) => Promise<unknown>): Promise<void> {
  // ACLs are per server: on a Cluster every master (and replica) needs the user.
  const nodes: RedisClient[] = admin instanceof Cluster ? admin.nodes("all") : [admin];
  await Promise.all(nodes.map(fn));
}

/** Creates or replaces the tenant's ACL user (idempotent: `reset` first). */
export async function provisionTenantRedisUser(admin: RedisClient, tenantId: string, password: string): Promise<{ username: string }> {
  const username = tenantRedisUsername(tenantId);
  const rules = tenantAclRules(tenantId, password);
  await onEveryNode(admin, (n) => n.call("ACL", ["SETUSER", username, ...rules]));
  return { username };
}

/** Deletes the tenant's ACL user; its open connections are closed by Redis. */
export async function revokeTenantRedisUser(admin: RedisClient, tenantId: string): Promise<void> {
  const username = tenantRedisUsername(tenantId);
  await onEveryNode(admin, (n) => n.call("ACL", ["DELUSER", username]));
}
