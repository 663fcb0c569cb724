/**
 * Fixtures for control-plane integration tests: tenants with members of each role, sessions,
 * API keys, and REST requests built as real `Request` objects for the route handlers.
 */
import { randomBytes, randomInt } from "node:crypto";
import { expect } from "vitest";
import type { TenantContext } from "~/server/actor";
import type { ApiKeyScope, Role } from "~/server/auth/permissions";
import { SESSION_COOKIE_NAMES } from "~/server/auth/session";
import type { TSharedFileCreateInput } from "~/server/contracts/shared-file";
import { db } from "~/server/db";
import { AppError } from "~/server/errors";
import { createApiKey } from "~/server/services/api-keys";
import { uniqueEmail, uniqueName } from "../helpers/unique";

export interface TestMember {
  userId: string;
  role: Role;
  /** next-auth database session token (cookie value). */
  sessionToken: string;
  ctx: TenantContext;
}

export interface TestTenant {
  tenantId: string;
  slug: string;
  owner: TestMember;
}

/** A private-looking IP per caller, so rate-limit buckets of different tests never meet. */
export function uniqueIp(): string {
  return `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
}

/** A user with `role` in the tenant, with a live session. */
export async function addMember(tenantId: string, role: Role): Promise<TestMember> {
  const user = await db.user.create({ data: { email: uniqueEmail(role.toLowerCase()), name: `${role} user` } });
  await db.membership.create({ data: { tenantId, userId: user.id, role } });
  const sessionToken = randomBytes(24).toString("hex");
  await db.session.create({ data: { sessionToken, userId: user.id, expires: new Date(Date.now() + 3600_000) } });
  return {
    userId: user.id,
    role,
    sessionToken,
    ctx: {
      actor: { type: "USER", userId: user.id, label: user.email!, isPlatformAdmin: false },
      tenantId,
      role,
      meta: { requestId: uniqueName("req"), ip: uniqueIp(), userAgent: "vitest" },
    },
  };
}

export async function createTestTenant(): Promise<TestTenant> {
  const slug = uniqueName("tenant");
  const tenant = await db.tenant.create({ data: { name: `Tenant ${slug}`, slug } });
  return { tenantId: tenant.id, slug, owner: await addMember(tenant.id, "OWNER") };
}

/** Creates a key through the service and returns the raw key (`cmy_…`). */
export async function createTestKey(
  owner: TestMember,
  scopes: readonly ApiKeyScope[],
  opts: { filePatterns?: string[]; expiresAt?: Date | null; name?: string } = {},
): Promise<{ raw: string; id: string; prefix: string }> {
  const created = await createApiKey(owner.ctx, {
    name: opts.name ?? uniqueName("key"),
    scopes: [...scopes],
    filePatterns: opts.filePatterns ?? [],
    expiresAt: opts.expiresAt ?? null,
  });
  return { raw: created.secret, id: created.apiKey.id, prefix: created.apiKey.prefix };
}

export interface Caller {
  key?: string;
  sessionToken?: string;
  tenant?: string;
  ip?: string;
}

/** A real `Request` as Next.js would hand it to a route handler. */
export function restRequest(method: string, pathAndQuery: string, caller: Caller, body?: unknown): Request {
  const headers = new Headers({ "x-forwarded-for": caller.ip ?? uniqueIp(), "user-agent": "vitest" });
  if (caller.key) headers.set("authorization", `Bearer ${caller.key}`);
  if (caller.sessionToken) headers.set("cookie", `${SESSION_COOKIE_NAMES[1]}=${caller.sessionToken}`);
  if (caller.tenant) headers.set("x-commy-tenant", caller.tenant);
  let payload: string | undefined;
  if (body !== undefined) {
    headers.set("content-type", "application/json");
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  return new Request(`http://localhost/api/v1${pathAndQuery}`, { method, headers, body: payload });
}

/** Route context of a dynamic segment, as Next.js 15+ passes it. */
export function routeParams(params: Record<string, string>): { params: Promise<Record<string, string>> } {
  return { params: Promise.resolve(params) };
}

/** A valid minimal shared-file declaration. */
export function fileBody(name: string): TSharedFileCreateInput {
  return { name, kind: "variables", layout: { type: "variables", slots: [{ name: "value", maxSize: 64 }] } };
}

/** The AppError a service call rejected with (the test fails if it resolved or threw anything else). */
export async function failureOf(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}
