/**
 * The authorization matrix, end to end through tRPC: EVERY procedure of `appRouter` × every
 * kind of caller, asserted against the permission matrix (`can`, `scopesAllow`) and each
 * procedure's declared `meta` ({ tier, permission, userOnly }): nothing here restates who may
 * do what. Callers are built like real requests (session cookie of a real Session row, a real
 * API key in `Authorization: Bearer`, nobody).
 *
 * Then the cross-tenant suite: every tenant-scoped procedure called with another tenant's id,
 * or with ids of another tenant's things, answers NOT_FOUND and returns no data.
 *
 * Adding a procedure? Add its input factory to `FACTORIES`; the first test fails until you do.
 */
import { randomBytes } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter, createCaller } from "~/server/api/root";
import type { ProcedureMeta, TRPCContext } from "~/server/api/trpc";
import { createTRPCContext } from "~/server/api/trpc";
import type { ApiKeyScope, Role } from "~/server/auth/permissions";
import { API_KEY_SCOPES, can, PERMISSIONS, ROLES, scopesAllow } from "~/server/auth/permissions";
import { db } from "~/server/db";
import { createApiKey } from "~/server/services/api-keys";
import { createInvitation } from "~/server/services/invitations";
import { createJoinToken, updateWorkerSettings } from "~/server/services/node-join";
import { createSharedFile } from "~/server/services/shared-files";
import { createTenant } from "~/server/services/tenants";
import { uniqueEmail, uniqueName } from "../helpers/unique";
import type { Person, Team } from "./core-fixtures";
import { createPerson, createTeam } from "./core-fixtures";

afterAll(async () => {
  await db.$disconnect();
});

// ---------------------------------------------------------------------------
// Callers
// ---------------------------------------------------------------------------

type CallerKind = "anonymous" | "outsider" | "platformAdmin" | "key:all-scopes" | "key:tenant-read" | Role;

const KEY_SCOPES: Record<"key:all-scopes" | "key:tenant-read", ApiKeyScope[]> = {
  "key:all-scopes": [...API_KEY_SCOPES],
  "key:tenant-read": ["tenant:read"],
};

/** Destructive successes (deleting the tenant) come last. */
const CALLER_ORDER: CallerKind[] = ["anonymous", "outsider", "platformAdmin", "key:tenant-read", "key:all-scopes", "VIEWER", "OPERATOR", "ADMIN", "OWNER"];

interface World {
  team: Team;
  outsider: Person;
  platformAdmin: Person;
  keys: Record<"key:all-scopes" | "key:tenant-read", string>;
}

async function createWorld(): Promise<World> {
  const team = await createTeam();
  const ownerCtx = await team.ctx(team.owner);
  const keys = {} as World["keys"];
  for (const kind of ["key:all-scopes", "key:tenant-read"] as const) {
    const created = await createApiKey(ownerCtx, { name: uniqueName("matrix"), scopes: KEY_SCOPES[kind], filePatterns: [], expiresAt: null });
    keys[kind] = created.secret;
  }
  return { team, outsider: await createPerson(), platformAdmin: await createPerson({ isPlatformAdmin: true }), keys };
}

function randomIp(): string {
  const b = randomBytes(3);
  return `10.${b[0]}.${b[1]}.${b[2]! % 250 + 1}`;
}

/** The tRPC context of a real HTTP request from this caller. */
async function contextFor(world: World, kind: CallerKind): Promise<TRPCContext> {
  const headers = new Headers({ "x-forwarded-for": randomIp(), "user-agent": "vitest-matrix", "x-request-id": uniqueName("req") });
  const cookie = (p: Person) => headers.set("cookie", `next-auth.session-token=${p.sessionToken}`);
  if (kind === "anonymous") {
    // nothing
  } else if (kind === "outsider") cookie(world.outsider);
  else if (kind === "platformAdmin") cookie(world.platformAdmin);
  else if (kind === "key:all-scopes" || kind === "key:tenant-read") headers.set("authorization", `Bearer ${world.keys[kind]}`);
  else cookie(world.team.byRole[kind]);
  const ctx = await createTRPCContext({ headers });
  // The harness itself must authenticate everyone it means to.
  if (kind !== "anonymous") expect(ctx.actor, `caller ${kind} did not authenticate`).not.toBeNull();
  return ctx;
}

function emailOf(world: World, kind: CallerKind): string {
  if (kind === "outsider") return world.outsider.email;
  if (kind === "platformAdmin") return world.platformAdmin.email;
  if ((ROLES as readonly string[]).includes(kind)) return world.team.byRole[kind as Role].email;
  return uniqueEmail("nobody");
}

// ---------------------------------------------------------------------------
// What the matrix says
// ---------------------------------------------------------------------------

type Outcome = "ok" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND";

function expectedOutcome(meta: ProcedureMeta, kind: CallerKind): Outcome {
  if (meta.tier === "public") return "ok";
  if (kind === "anonymous") return "UNAUTHORIZED";
  const isKey = kind === "key:all-scopes" || kind === "key:tenant-read";
  switch (meta.tier) {
    case "authed":
      return "ok";
    case "user":
      return isKey ? "FORBIDDEN" : "ok";
    case "platformAdmin":
      return kind === "platformAdmin" ? "ok" : "FORBIDDEN";
    case "tenant": {
      const permission = meta.permission!;
      if (kind === "outsider" || kind === "platformAdmin") return "NOT_FOUND";
      if (isKey) return !meta.userOnly && scopesAllow(KEY_SCOPES[kind], permission) ? "ok" : "FORBIDDEN";
      return can(kind as Role, permission) ? "ok" : "FORBIDDEN";
    }
  }
}

// ---------------------------------------------------------------------------
// Valid inputs for every procedure
// ---------------------------------------------------------------------------

interface FactoryArgs {
  /** The tenant id to put in the input. */
  tenantId: string;
  /** Where to create the things the input refers to (normally the same tenant). */
  res: Team;
  world: World;
  caller: CallerKind;
}

interface Factory {
  /**
   * How the input refers to tenant-owned things: "strict" ids (another tenant's → NOT_FOUND),
   * "filter" ids (another tenant's → an empty answer), or none.
   */
  ids?: "strict" | "filter";
  input: (a: FactoryArgs) => Promise<unknown>;
}

const ownerCtxOf = (t: Team) => t.ctx(t.owner);

async function freshMember(t: Team, role: Role): Promise<Person> {
  const p = await createPerson();
  await db.membership.create({ data: { tenantId: t.tenantId, userId: p.userId, role } });
  return p;
}

async function freshFile(t: Team): Promise<string> {
  const name = uniqueName("file");
  await createSharedFile(await ownerCtxOf(t), { name, kind: "variables", layout: { type: "variables", slots: [{ name: "value", maxSize: 64 }] } } as never);
  return name;
}

async function freshNode(t: Team): Promise<string> {
  const node = await db.node.create({
    data: { tenantId: t.tenantId, name: uniqueName("node"), hostname: "host", version: "0.0.0", credentialHash: randomBytes(32).toString("hex") },
  });
  return node.id;
}

async function freshStreamFile(t: Team): Promise<string> {
  const name = uniqueName("stream");
  await createSharedFile(await ownerCtxOf(t), { name, kind: "stream", layout: { type: "stream", messageMaxSize: 256, capacity: 16 } } as never);
  return name;
}

const FACTORIES: Record<string, Factory> = {
  "me.get": { input: async () => undefined },

  "tenant.list": { input: async () => undefined },
  "tenant.create": { input: async () => ({ name: `Matrix ${uniqueName("t")}` }) },
  "tenant.get": { input: async ({ tenantId }) => ({ tenantId }) },
  "tenant.rename": { input: async ({ tenantId }) => ({ tenantId, name: `Renamed ${uniqueName("t")}` }) },
  "tenant.updateSettings": { input: async ({ tenantId }) => ({ tenantId, auditRetentionDays: 90 }) },
  "tenant.delete": { input: async ({ tenantId, res }) => ({ tenantId, confirm: res.slug }) },

  "member.list": { input: async ({ tenantId }) => ({ tenantId }) },
  "member.changeRole": { ids: "strict", input: async ({ tenantId, res }) => ({ tenantId, userId: (await freshMember(res, "VIEWER")).userId, role: "OPERATOR" }) },
  "member.remove": { ids: "strict", input: async ({ tenantId, res }) => ({ tenantId, userId: (await freshMember(res, "VIEWER")).userId }) },
  "member.leave": {
    input: async ({ tenantId, res }) => {
      await freshMember(res, "OWNER"); // so that an owner leaving is not the last owner
      return { tenantId };
    },
  },

  "invitation.list": { input: async ({ tenantId }) => ({ tenantId }) },
  "invitation.create": { input: async ({ tenantId }) => ({ tenantId, email: uniqueEmail("invitee"), role: "VIEWER" }) },
  "invitation.revoke": {
    ids: "strict",
    input: async ({ tenantId, res }) => {
      const { invitation } = await createInvitation(await ownerCtxOf(res), { email: uniqueEmail("revoke"), role: "VIEWER" });
      return { tenantId, invitationId: invitation.id };
    },
  },
  "invitation.getByToken": {
    input: async ({ res }) => ({ token: (await createInvitation(await ownerCtxOf(res), { email: uniqueEmail("peek"), role: "VIEWER" })).token }),
  },
  "invitation.accept": {
    input: async ({ world, caller }) => {
      // An invitation of another tenant, addressed to the caller.
      const host = await createPerson();
      const other = await createTenant(host.userCtx, { name: `Host ${uniqueName("t")}` });
      const ctx = { actor: host.actor, tenantId: other.id, role: "OWNER" as const, meta: host.userCtx.meta };
      return { token: (await createInvitation(ctx, { email: emailOf(world, caller), role: "VIEWER" })).token };
    },
  },

  "audit.list": { input: async ({ tenantId }) => ({ tenantId }) },
  "audit.verify": { input: async ({ tenantId }) => ({ tenantId }) },

  "admin.tenants": { input: async () => undefined },
  "admin.purgeAudit": { input: async () => undefined },

  "apiKey.list": { input: async ({ tenantId }) => ({ tenantId }) },
  "apiKey.create": { input: async ({ tenantId }) => ({ tenantId, name: uniqueName("key"), scopes: ["files:read"], filePatterns: [], expiresAt: null }) },
  "apiKey.revoke": {
    ids: "strict",
    input: async ({ tenantId, res }) => {
      const created = await createApiKey(await ownerCtxOf(res), { name: uniqueName("victim"), scopes: ["files:read"], filePatterns: [], expiresAt: null });
      return { tenantId, id: created.apiKey.id };
    },
  },

  "sharedFile.list": { input: async ({ tenantId }) => ({ tenantId }) },
  "sharedFile.get": { ids: "strict", input: async ({ tenantId, res }) => ({ tenantId, name: await freshFile(res) }) },
  "sharedFile.create": {
    input: async ({ tenantId }) => ({ tenantId, file: { name: uniqueName("new"), kind: "variables", layout: { type: "variables", slots: [{ name: "v", maxSize: 64 }] } } }),
  },
  "sharedFile.update": { ids: "strict", input: async ({ tenantId, res }) => ({ tenantId, name: await freshFile(res), patch: { revision: 1, description: "changed" } }) },
  "sharedFile.delete": { ids: "strict", input: async ({ tenantId, res }) => ({ tenantId, name: await freshFile(res) }) },

  "node.list": { input: async ({ tenantId }) => ({ tenantId }) },
  "node.get": { ids: "strict", input: async ({ tenantId, res }) => ({ tenantId, nodeId: await freshNode(res) }) },

  "nodeAdmin.createJoinToken": { input: async ({ tenantId }) => ({ tenantId }) },
  "nodeAdmin.revokeJoinToken": {
    ids: "strict",
    input: async ({ tenantId, res }) => ({ tenantId, id: (await createJoinToken(await ownerCtxOf(res), { controlPlaneUrl: "http://localhost" })).id }),
  },
  "nodeAdmin.revoke": { ids: "strict", input: async ({ tenantId, res }) => ({ tenantId, nodeId: await freshNode(res) }) },
  "nodeAdmin.drain": { ids: "strict", input: async ({ tenantId, res }) => ({ tenantId, nodeId: await freshNode(res) }) },
  "nodeAdmin.settingsGet": { input: async ({ tenantId }) => ({ tenantId }) },
  "nodeAdmin.settingsUpdate": { input: async ({ tenantId }) => ({ tenantId, settings: { heartbeatIntervalMs: 4000 } }) },
  "nodeAdmin.settingsRollback": {
    ids: "strict",
    input: async ({ tenantId, res }) => ({ tenantId, version: (await updateWorkerSettings(await ownerCtxOf(res), {})).version }),
  },
  "nodeAdmin.attachments": { ids: "filter", input: async ({ tenantId, res }) => ({ tenantId, nodeId: await freshNode(res) }) },

  "routing.fileRoutes": { ids: "strict", input: async ({ tenantId, res }) => ({ tenantId, name: await freshFile(res) }) },
  "routing.fileHistory": { ids: "strict", input: async ({ tenantId, res }) => ({ tenantId, name: await freshFile(res) }) },
  "routing.nodeRoutes": { ids: "strict", input: async ({ tenantId, res }) => ({ tenantId, nodeId: await freshNode(res) }) },
  "routing.deadLetters": { ids: "strict", input: async ({ tenantId, res }) => ({ tenantId, name: await freshFile(res) }) },
  "routing.recentEvents": { input: async ({ tenantId }) => ({ tenantId }) },

  "fileData.readVariable": { ids: "strict", input: async ({ tenantId, res }) => ({ tenantId, name: await freshFile(res), slot: "value" }) },
  "fileData.writeVariable": { ids: "strict", input: async ({ tenantId, res }) => ({ tenantId, name: await freshFile(res), slot: "value", value: 42 }) },
  "fileData.publish": { ids: "strict", input: async ({ tenantId, res }) => ({ tenantId, name: await freshStreamFile(res), value: { n: 1 } }) },
  "fileData.readMessages": { ids: "strict", input: async ({ tenantId, res }) => ({ tenantId, name: await freshFile(res) }) },
};

// ---------------------------------------------------------------------------
// Calling a procedure by path
// ---------------------------------------------------------------------------

type AnyProcedure = { _def: { type: "query" | "mutation" | "subscription"; meta?: ProcedureMeta } };
const PROCEDURES = appRouter._def.procedures as unknown as Record<string, AnyProcedure>;
const PATHS = Object.keys(PROCEDURES).sort();

async function call(ctx: TRPCContext, path: string, input: unknown): Promise<{ outcome: Outcome | string; data?: unknown; message?: string }> {
  let fn: unknown = createCaller(ctx);
  for (const part of path.split(".")) fn = (fn as Record<string, unknown>)[part];
  try {
    const data = await (fn as (i: unknown) => Promise<unknown>)(input);
    return { outcome: "ok", data };
  } catch (err) {
    if (err instanceof TRPCError) return { outcome: err.code, message: err.message };
    throw err;
  }
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

describe("tRPC procedure map", () => {
  it("every procedure declares its tier, and tenant procedures a permission of the matrix", () => {
    for (const path of PATHS) {
      const meta = PROCEDURES[path]!._def.meta;
      expect(meta?.tier, `${path} has no tier`).toMatch(/^(public|authed|user|tenant|platformAdmin)$/);
      if (meta?.tier === "tenant") expect(PERMISSIONS, `${path} permission`).toContain(meta.permission);
    }
  });

  it("every procedure has an input factory here, and every factory a procedure", () => {
    expect(PATHS.filter((p) => !FACTORIES[p]), "procedures without a factory in trpc-matrix.test.ts").toEqual([]);
    expect(Object.keys(FACTORIES).filter((p) => !PROCEDURES[p]), "factories of procedures that no longer exist").toEqual([]);
  });
});

describe("every procedure × every caller follows the permission matrix", () => {
  for (const path of PATHS) {
    it(path, async () => {
      const factory = FACTORIES[path];
      if (!factory) throw new Error(`no factory for ${path}`);
      const meta = PROCEDURES[path]!._def.meta!;
      const world = await createWorld();
      const mismatches: string[] = [];
      for (const kind of CALLER_ORDER) {
        const expected = expectedOutcome(meta, kind);
        const input = await factory.input({ tenantId: world.team.tenantId, res: world.team, world, caller: kind });
        const got = await call(await contextFor(world, kind), path, input);
        if (got.outcome !== expected) mismatches.push(`${kind}: expected ${expected}, got ${got.outcome}${got.message ? ` (${got.message})` : ""}`);
        // A member refused by the matrix is told which permission is missing.
        if (expected === "FORBIDDEN" && got.outcome === "FORBIDDEN" && meta.tier === "tenant" && (ROLES as readonly string[]).includes(kind)) {
          if (!got.message?.includes(meta.permission!)) mismatches.push(`${kind}: FORBIDDEN does not name ${meta.permission}: ${got.message}`);
        }
      }
      expect(mismatches, `${path} (${JSON.stringify(meta)})`).toEqual([]);
    });
  }
});

describe("cross-tenant: another tenant's ids are NOT_FOUND and return no data", () => {
  let a: World;
  let b: World;
  beforeAll(async () => {
    a = await createWorld();
    b = await createWorld();
  });

  const tenantPaths = PATHS.filter((p) => PROCEDURES[p]!._def.meta?.tier === "tenant");

  for (const path of tenantPaths) {
    it(path, async () => {
      const factory = FACTORIES[path]!;
      const failures: string[] = [];
      // 1. Someone of tenant A names tenant B (an owner of A, and A's most powerful key).
      for (const kind of ["OWNER", "key:all-scopes"] as const) {
        const input = await factory.input({ tenantId: b.team.tenantId, res: b.team, world: a, caller: kind });
        const got = await call(await contextFor(a, kind), path, input);
        if (got.outcome !== "NOT_FOUND") failures.push(`${kind} of A with B's tenantId: ${got.outcome}`);
        if (got.data !== undefined) failures.push(`${kind} of A with B's tenantId got data`);
      }
      // 2. An owner of A, in A, with ids of B's things.
      if (factory.ids) {
        const input = await factory.input({ tenantId: a.team.tenantId, res: b.team, world: a, caller: "OWNER" });
        const got = await call(await contextFor(a, "OWNER"), path, input);
        if (factory.ids === "strict" && got.outcome !== "NOT_FOUND") failures.push(`OWNER of A with B's ids: ${got.outcome}`);
        if (factory.ids === "filter") {
          if (got.outcome !== "ok" && got.outcome !== "NOT_FOUND") failures.push(`OWNER of A filtering by B's ids: ${got.outcome}`);
          const text = JSON.stringify(got.data ?? null);
          if (text.includes(b.team.tenantId)) failures.push(`OWNER of A filtering by B's ids saw B's data: ${text.slice(0, 200)}`);
        }
      }
      expect(failures).toEqual([]);
      // B is untouched by all of it.
      expect(await db.tenant.findUnique({ where: { id: b.team.tenantId }, select: { name: true } })).toEqual({ name: b.team.name });
    });
  }
});
