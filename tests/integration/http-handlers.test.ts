/**
 * The tRPC and audit-export route handlers as a browser or an integrator meets them: real
 * `Request`s with session cookies or bearer keys, real status codes, the error shape
 * (`data.appCode`, `data.fieldErrors`) and the request id echoed back.
 */
import superjson from "superjson";
import { afterAll, describe, expect, it } from "vitest";
import { GET as exportGET } from "~/app/api/tenants/[tenantId]/audit/export/route";
import { GET as trpcGET, POST as trpcPOST } from "~/app/api/trpc/[trpc]/route";
import { db } from "~/server/db";
import { auditSessionEvent } from "~/server/services/auth-events";
import { createApiKey } from "~/server/services/api-keys";
import { uniqueName } from "../helpers/unique";
import { createPerson, createTeam, testMeta } from "./core-fixtures";

afterAll(async () => {
  await db.$disconnect();
});

function headersFor(opts: { session?: string; key?: string; requestId?: string }): Headers {
  const h = new Headers({ "x-forwarded-for": "203.0.113.9", "user-agent": "vitest-http" });
  if (opts.session) h.set("cookie", `next-auth.session-token=${opts.session}`);
  if (opts.key) h.set("authorization", `Bearer ${opts.key}`);
  if (opts.requestId) h.set("x-request-id", opts.requestId);
  return h;
}

async function query(path: string, input: unknown, opts: Parameters<typeof headersFor>[0] = {}) {
  const url = `http://localhost/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(superjson.serialize(input)))}`;
  const res = await trpcGET(new Request(url, { headers: headersFor(opts) }));
  return { res, body: (await res.json()) as { result?: { data: unknown }; error?: { json: { message: string; data: Record<string, unknown> } } } };
}

async function mutate(path: string, input: unknown, opts: Parameters<typeof headersFor>[0] = {}) {
  const headers = headersFor(opts);
  headers.set("content-type", "application/json");
  const res = await trpcPOST(new Request(`http://localhost/api/trpc/${path}`, { method: "POST", headers, body: JSON.stringify(superjson.serialize(input)) }));
  return { res, body: (await res.json()) as { result?: { data: unknown }; error?: { json: { message: string; data: Record<string, unknown> } } } };
}

describe("tRPC over HTTP", () => {
  it("resolves the session cookie and echoes the request id", async () => {
    const team = await createTeam();
    const { res, body } = await query("member.list", { tenantId: team.tenantId }, { session: team.viewer.sessionToken, requestId: "my-req-42" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("my-req-42");
    const members = superjson.deserialize(body.result!.data as never) as { userId: string }[];
    expect(members).toHaveLength(4);
  });

  it("an expired session is UNAUTHORIZED (401)", async () => {
    const p = await createPerson();
    await db.session.update({ where: { sessionToken: p.sessionToken }, data: { expires: new Date(Date.now() - 1000) } });
    const { res, body } = await query("me.get", undefined, { session: p.sessionToken });
    expect(res.status).toBe(401);
    expect(body.error!.json.data).toMatchObject({ code: "UNAUTHORIZED", appCode: "UNAUTHENTICATED" });
  });

  it("a bad API key is a 401 with its stable code, never a silent anonymous call", async () => {
    const { res, body } = await query("tenant.get", { tenantId: "x" }, { key: "cmy_notarealkey_0000000000000000" });
    expect(res.status).toBe(401);
    expect(body.error!.json.data.appCode).toMatch(/^API_KEY_/);
  });

  it("an API key reaches its tenant through tRPC", async () => {
    const team = await createTeam();
    const { secret } = await createApiKey(await team.ctx(team.owner), { name: uniqueName("k"), scopes: ["tenant:read"], filePatterns: [], expiresAt: null });
    const { res, body } = await query("tenant.get", { tenantId: team.tenantId }, { key: secret });
    expect(res.status).toBe(200);
    expect(superjson.deserialize(body.result!.data as never)).toMatchObject({ id: team.tenantId, slug: team.slug });
  });

  it("invalid input comes back as field errors (400)", async () => {
    const team = await createTeam();
    const { res, body } = await mutate("invitation.create", { tenantId: team.tenantId, email: "not-an-email", role: "VIEWER" }, { session: team.owner.sessionToken });
    expect(res.status).toBe(400);
    expect(body.error!.json.message).toBe("Some fields are invalid");
    expect(body.error!.json.data).toMatchObject({ appCode: "VALIDATION_FAILED", fieldErrors: { email: [expect.stringContaining("email address")] } });
  });

  it("service errors keep their stable code: the last owner → 409 LAST_OWNER", async () => {
    const team = await createTeam();
    const { res, body } = await mutate("member.changeRole", { tenantId: team.tenantId, userId: team.owner.userId, role: "ADMIN" }, { session: team.owner.sessionToken });
    expect(res.status).toBe(409);
    expect(body.error!.json.data.appCode).toBe("LAST_OWNER");
    expect(body.error!.json.message).toContain("last owner");
  });

  it("a forbidden call is 403 and names the permission; another tenant is 404", async () => {
    const [a, b] = [await createTeam(), await createTeam()];
    const forbidden = await mutate("tenant.rename", { tenantId: a.tenantId, name: "Nope" }, { session: a.viewer.sessionToken });
    expect(forbidden.res.status).toBe(403);
    expect(forbidden.body.error!.json.message).toContain("tenant:update");
    const foreign = await query("tenant.get", { tenantId: b.tenantId }, { session: a.owner.sessionToken });
    expect(foreign.res.status).toBe(404);
    expect(JSON.stringify(foreign.body)).not.toContain(b.slug);
  });

  it("mutations record the request's id, IP and user agent in the audit log", async () => {
    const team = await createTeam();
    await mutate("tenant.rename", { tenantId: team.tenantId, name: "Via HTTP" }, { session: team.admin.sessionToken, requestId: "audit-req-7" });
    const ev = await db.auditEvent.findFirst({ where: { chainId: team.tenantId, action: "tenant.renamed" } });
    expect(ev).toMatchObject({ requestId: "audit-req-7", ip: "203.0.113.9", userAgent: "vitest-http", actorId: team.admin.userId });
  });
});

describe("audit export download", () => {
  async function download(tenantId: string, qs: string, opts: Parameters<typeof headersFor>[0]) {
    return exportGET(new Request(`http://localhost/api/tenants/${tenantId}/audit/export?${qs}`, { headers: headersFor(opts) }), { params: Promise.resolve({ tenantId }) });
  }

  it("streams CSV to an operator, as an attachment", async () => {
    const team = await createTeam();
    const res = await download(team.tenantId, "format=csv&action=tenant.", { session: team.operator.sessionToken });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/csv");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="audit-.*\.csv"$/);
    const text = await res.text();
    expect(text.split("\r\n")[0]).toMatch(/^seq,id,occurredAt/);
    expect(text).toContain("tenant.created");
  });

  it("streams JSON Lines", async () => {
    const team = await createTeam();
    const res = await download(team.tenantId, "format=jsonl", { session: team.owner.sessionToken });
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l) as { action: string });
    expect(lines.map((l) => l.action)).toEqual(["tenant.created", "audit.exported"]);
  });

  it("refuses a viewer (403), a stranger (404), nobody (401) and a bad filter (400 with fields)", async () => {
    const [team, other] = [await createTeam(), await createTeam()];
    expect((await download(team.tenantId, "format=csv", { session: team.viewer.sessionToken })).status).toBe(403);
    expect((await download(team.tenantId, "format=csv", { session: other.owner.sessionToken })).status).toBe(404);
    expect((await download(team.tenantId, "format=csv", {})).status).toBe(401);
    const bad = await download(team.tenantId, "format=xml", { session: team.owner.sessionToken });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "VALIDATION_FAILED", fields: { format: [expect.any(String)] } } });
  });
});

describe("sign-in and sign-out audit", () => {
  it("goes to every tenant of the user", async () => {
    const [a, b] = [await createTeam(), await createTeam()];
    await db.membership.create({ data: { tenantId: b.tenantId, userId: a.viewer.userId, role: "VIEWER" } });
    await auditSessionEvent("auth.signed_in", a.viewer.userId, testMeta(), { provider: "oidc" });
    for (const t of [a, b]) {
      const ev = await db.auditEvent.findFirst({ where: { chainId: t.tenantId, action: "auth.signed_in" } });
      expect(ev).toMatchObject({ actorId: a.viewer.userId, after: { provider: "oidc" } });
    }
  });

  it("goes to the platform chain for a user without a tenant", async () => {
    const p = await createPerson();
    await auditSessionEvent("auth.signed_out", p.userId, testMeta());
    expect(await db.auditEvent.count({ where: { chainId: "platform", action: "auth.signed_out", actorId: p.userId } })).toBe(1);
  });
});
