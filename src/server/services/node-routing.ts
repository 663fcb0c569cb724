/**
 * Cross-node routing, control-plane side: hands each worker node the Redis credentials it uses
 * to forward its tenant's shared-file writes (`GET /api/worker/routing`), and takes them away
 * when the node is revoked.
 *
 * One ACL user per NODE (`commy-n-<nodeId>`), limited to the node's tenant's keys
 * (`~commy:{t:<tenantId>:*`, the rules of routing/acl.ts). Per node rather than per tenant so
 * revocation is clean: deleting a revoked node's user closes its open Redis connections and
 * refuses new logins, while the tenant's other nodes keep working with their own users.
 *
 * Passwords are derived, not stored: HMAC-SHA256(routing secret, "node:<nodeId>"). Every replica
 * of the (stateless) control plane derives the same password, and re-provisioning after Redis
 * lost its ACL users (a restart without an ACL file) restores exactly the credentials the
 * workers already hold. The routing secret is NEXTAUTH_SECRET when set, else a random secret
 * kept in Redis under `commy-cp:routing-secret` (outside every tenant's key pattern; only the
 * admin connection of REDIS_URL can read it).
 *
 * Never imported by the worker; the worker only sees the contract (RoutingConfigResponse).
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Cluster } from "ioredis";
import { connectClient, createRedisClient, tenantAclRules, type RedisClient, type RedisTarget } from "../../../routing";
import type { RoutingConfigResponse } from "~/server/contracts/worker";
import { env } from "~/env";
import { AppError } from "~/server/errors";
import { logger } from "~/server/logger";
import type { AuthenticatedNode } from "./node-join";

const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const SECRET_KEY = "commy-cp:routing-secret";

/** The ACL user of one worker node. */
export function nodeRedisUsername(nodeId: string): string {
  if (!ID_RE.test(nodeId)) throw new AppError("BAD_REQUEST", "node id cannot be used as a Redis user name");
  return `commy-n-${nodeId}`;
}

interface RoutingRedisSettings {
  /** Admin connection (REDIS_URL, with its credentials). */
  target: RedisTarget;
  /** What workers are told: REDIS_WORKER_URL or REDIS_URL, without credentials. */
  workerUrl: string;
  cluster: boolean;
  tlsCa: string | null;
}

/** Reads the routing settings from the environment; null when REDIS_URL is unset. */
export function routingRedisSettings(): RoutingRedisSettings | null {
  if (!env.REDIS_URL) return null;
  const admin = new URL(env.REDIS_URL);
  const tlsCa = env.REDIS_TLS_CA_FILE ? readFileSync(env.REDIS_TLS_CA_FILE, "utf8") : null;
  const tls = admin.protocol === "rediss:" ? (tlsCa ? { ca: tlsCa } : true) : undefined;
  const target: RedisTarget = env.REDIS_CLUSTER
    ? {
        cluster: [{ host: admin.hostname.replace(/^\[|\]$/g, ""), port: Number(admin.port || 6379) }],
        tls,
        username: admin.username ? decodeURIComponent(admin.username) : undefined,
        password: admin.password ? decodeURIComponent(admin.password) : undefined,
        connectionName: "commy-control-plane",
      }
    : { url: env.REDIS_URL, tls, connectionName: "commy-control-plane" };
  const w = new URL(env.REDIS_WORKER_URL ?? env.REDIS_URL);
  w.username = "";
  w.password = "";
  return { target, workerUrl: w.toString().replace(/\/$/, ""), cluster: env.REDIS_CLUSTER, tlsCa };
}

let adminPromise: Promise<RedisClient> | null = null;

/** One admin connection per process, opened on first use (and again after a failed attempt). */
function adminClient(settings: RoutingRedisSettings): Promise<RedisClient> {
  adminPromise ??= (async () => {
    const c = createRedisClient(settings.target, "admin");
    c.on("error", () => undefined);
    try {
      await connectClient(c);
      return c;
    } catch (e) {
      c.disconnect();
      throw e;
    }
  })().catch((e: unknown) => {
    adminPromise = null;
    throw e;
  });
  return adminPromise;
}

/** Closes the admin connection (tests, shutdown). */
export async function closeRoutingAdmin(): Promise<void> {
  const p = adminPromise;
  adminPromise = null;
  const c = await p?.catch(() => null);
  c?.disconnect();
}

function everyNode(admin: RedisClient): RedisClient[] {
  return admin instanceof Cluster ? admin.nodes("master") : [admin];
}

async function routingSecret(admin: RedisClient): Promise<Buffer> {
  if (env.NEXTAUTH_SECRET) return createHash("sha256").update(`commy-routing:${env.NEXTAUTH_SECRET}`).digest();
  await admin.set(SECRET_KEY, randomBytes(32).toString("base64url"), "NX");
  const s = await admin.get(SECRET_KEY);
  if (!s) throw new AppError("INTERNAL", "routing secret missing in Redis");
  return Buffer.from(s);
}

export function nodeRedisPassword(secret: Buffer, nodeId: string): string {
  return createHmac("sha256", secret).update(`node:${nodeId}`).digest("base64url");
}

/** Redis could not be reached to provision credentials: the route answers 503 ROUTING_UNAVAILABLE. */
export class RoutingUnavailableError extends Error {
  readonly code = "ROUTING_UNAVAILABLE";
  constructor(cause: unknown) {
    super(`Redis is unreachable; retry later (${(cause as Error)?.message ?? String(cause)})`);
    this.name = "RoutingUnavailableError";
  }
}

function unavailable(e: unknown): RoutingUnavailableError {
  logger.warn({ err: (e as Error).message }, "routing: Redis unreachable while provisioning node credentials");
  return new RoutingUnavailableError(e);
}

/**
 * The node's routing configuration. Creates (or restores) the node's ACL user on every Redis
 * server; a user that already has the right password is left alone, so its open connections are
 * never disturbed.
 */
export async function getNodeRoutingConfig(node: AuthenticatedNode): Promise<RoutingConfigResponse> {
  const settings = routingRedisSettings();
  if (!settings) return { tenantId: node.tenantId, nodeId: node.nodeId, redis: null };
  const username = nodeRedisUsername(node.nodeId);
  let password: string;
  try {
    const admin = await adminClient(settings);
    password = nodeRedisPassword(await routingSecret(admin), node.nodeId);
    const want = createHash("sha256").update(password).digest("hex");
    const rules = tenantAclRules(node.tenantId, password);
    await Promise.all(
      everyNode(admin).map(async (n) => {
        const current = (await n.call("ACL", ["GETUSER", username])) as unknown[] | null;
        if (current && aclUserMatches(current, want, node.tenantId, rules)) return;
        await n.call("ACL", ["SETUSER", username, ...rules]);
        await aclSave(n);
      }),
    );
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw unavailable(e);
  }
  return {
    tenantId: node.tenantId,
    nodeId: node.nodeId,
    redis: { url: settings.workerUrl, cluster: settings.cluster, username, password, tlsCa: settings.tlsCa },
  };
}

/**
 * Persists ACL users when the server has an ACL file (`aclfile`), so they survive a Redis restart.
 * Without one Redis answers an error: the users then live until the next restart, and workers
 * that get WRONGPASS ask for their configuration again, which provisions them anew.
 */
async function aclSave(n: RedisClient): Promise<void> {
  try {
    await n.call("ACL", ["SAVE"]);
  } catch (e) {
    if (!/not configured to use an ACL file/i.test((e as Error).message)) throw e;
  }
}

/** ACL GETUSER reply (flat [name, value, ...]): enabled, has our password, our key pattern. */
function aclUserMatches(reply: unknown[], passwordSha: string, tenantId: string, rules: string[]): boolean {
  const m = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) m.set(String(reply[i]), reply[i + 1]);
  const flags = (m.get("flags") as unknown[] | undefined)?.map(String) ?? [];
  const passwords = (m.get("passwords") as unknown[] | undefined)?.map(String) ?? [];
  const keys = String(m.get("keys") ?? "");
  // Every granted command still granted (the rules grow with new routing features).
  const commands = ` ${String(m.get("commands") ?? "")} `;
  const granted = rules.filter((r) => r.startsWith("+")).every((r) => commands.includes(` ${r} `));
  return flags.includes("on") && passwords.length === 1 && passwords[0] === passwordSha && keys === `~commy:{t:${tenantId}:*` && granted;
}

/**
 * Deletes the node's ACL user on every Redis server: Redis closes its open connections and
 * refuses new logins. Called when a node is revoked. A no-op without routing.
 */
export async function revokeNodeRouting(nodeId: string): Promise<void> {
  const settings = routingRedisSettings();
  if (!settings) return;
  const username = nodeRedisUsername(nodeId);
  const admin = await adminClient(settings);
  await Promise.all(everyNode(admin).map(async (n) => {
    await n.call("ACL", ["DELUSER", username]);
    await aclSave(n);
  }));
  logger.info({ nodeId, username }, "routing: revoked node's Redis user deleted");
}
