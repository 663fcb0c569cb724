/**
 * Fixtures for the core control-plane tests (tenants, members, invitations, audit): people with
 * real User/Session rows, tenant contexts built the way the tiers build them.
 */
import { randomBytes } from "node:crypto";
import type { RequestMeta, TenantContext } from "~/server/actor";
import type { Role } from "~/server/auth/permissions";
import type { UserActor } from "~/server/auth/session";
import { userActor } from "~/server/auth/session";
import { db } from "~/server/db";
import type { UserContext } from "~/server/services/shared";
import { createTenant } from "~/server/services/tenants";
import { uniqueEmail, uniqueName } from "../helpers/unique";

export function testMeta(): RequestMeta {
  return { requestId: uniqueName("req"), ip: "10.1.2.3", userAgent: "vitest" };
}

export interface Person {
  userId: string;
  email: string;
  actor: UserActor;
  sessionToken: string;
  userCtx: UserContext;
}

/** A user with a live next-auth database session. */
export async function createPerson(opts: { email?: string; isPlatformAdmin?: boolean } = {}): Promise<Person> {
  const email = opts.email ?? uniqueEmail("person");
  const user = await db.user.create({ data: { email, name: `Person ${email.split("@")[0]}`, isPlatformAdmin: opts.isPlatformAdmin ?? false } });
  const sessionToken = randomBytes(24).toString("hex");
  await db.session.create({ data: { sessionToken, userId: user.id, expires: new Date(Date.now() + 3600_000) } });
  const actor = userActor(user);
  return { userId: user.id, email, actor, sessionToken, userCtx: { actor, meta: testMeta() } };
}

/** The tenant context a member gets from `tenantProcedure` (role read from the membership). */
export async function tenantCtx(person: Person, tenantId: string): Promise<TenantContext> {
  const m = await db.membership.findUnique({ where: { tenantId_userId: { tenantId, userId: person.userId } } });
  return { actor: person.actor, tenantId, role: m?.role ?? null, meta: testMeta() };
}

export interface Team {
  tenantId: string;
  slug: string;
  name: string;
  owner: Person;
  admin: Person;
  operator: Person;
  viewer: Person;
  byRole: Record<Role, Person>;
  ctx: (p: Person) => Promise<TenantContext>;
}

/** A tenant created through the service (so it has its `tenant.created` event) with one member per role. */
export async function createTeam(): Promise<Team> {
  const owner = await createPerson();
  const tenant = await createTenant(owner.userCtx, { name: `Team ${uniqueName("t")}` });
  const add = async (role: Role) => {
    const p = await createPerson();
    await db.membership.create({ data: { tenantId: tenant.id, userId: p.userId, role } });
    return p;
  };
  const [admin, operator, viewer] = [await add("ADMIN"), await add("OPERATOR"), await add("VIEWER")];
  return {
    tenantId: tenant.id,
    slug: tenant.slug,
    name: tenant.name,
    owner,
    admin,
    operator,
    viewer,
    byRole: { OWNER: owner, ADMIN: admin, OPERATOR: operator, VIEWER: viewer },
    ctx: (p) => tenantCtx(p, tenant.id),
  };
}

/** Runs `fn` and returns the AppError/TRPC code it threw (fails the test if it did not throw). */
export async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (err) {
    return (err as { code?: string }).code ?? "NO_CODE";
  }
  throw new Error("expected an error, but the call succeeded");
}
