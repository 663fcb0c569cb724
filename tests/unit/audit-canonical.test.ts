/** Canonical hashing of audit events and the link checks that verification is built on. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { HashedAuditFields } from "~/server/audit/canonical";
import { canonicalJson, checkLinks, GENESIS_HASH, hashAuditEvent } from "~/server/audit/canonical";

function event(over: Partial<HashedAuditFields> = {}): HashedAuditFields {
  return {
    chainId: "tenant1",
    seq: 1,
    tenantId: "tenant1",
    occurredAt: new Date("2026-01-02T03:04:05.678Z"),
    actorType: "USER",
    actorId: "user1",
    actorLabel: "ada@example.com",
    action: "member.role_changed",
    targetType: "user",
    targetId: "user2",
    ip: "10.0.0.1",
    userAgent: "Firefox",
    requestId: "req-1",
    before: { role: "VIEWER" },
    after: { role: "ADMIN", email: "bob@example.com" },
    outcome: "SUCCESS",
    prevHash: GENESIS_HASH,
    ...over,
  };
}

describe("canonical form", () => {
  it("sorts keys at every level and drops undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: null, y: "x" }], c: undefined } })).toBe('{"a":{"d":[2,{"y":"x","z":null}]},"b":1}');
  });

  it("is exactly the documented string (an auditor can recompute it elsewhere)", () => {
    const expected =
      '{"action":"member.role_changed","actorId":"user1","actorLabel":"ada@example.com","actorType":"USER",' +
      '"after":{"email":"bob@example.com","role":"ADMIN"},"before":{"role":"VIEWER"},"chainId":"tenant1",' +
      '"ip":"10.0.0.1","occurredAt":"2026-01-02T03:04:05.678Z","outcome":"SUCCESS","prevHash":"' + GENESIS_HASH + '",' +
      '"requestId":"req-1","seq":1,"targetId":"user2","targetType":"user","tenantId":"tenant1","userAgent":"Firefox","v":1}';
    expect(hashAuditEvent(event())).toBe(createHash("sha256").update(expected).digest("hex"));
  });

  it("does not depend on the key order of before/after (jsonb reorders them)", () => {
    expect(hashAuditEvent(event({ after: { email: "bob@example.com", role: "ADMIN" } }))).toBe(hashAuditEvent(event({ after: { role: "ADMIN", email: "bob@example.com" } })));
  });

  it("changes when any hashed field changes", () => {
    const base = hashAuditEvent(event());
    const changes: Partial<HashedAuditFields>[] = [
      { chainId: "tenant2" },
      { seq: 2 },
      { tenantId: null },
      { occurredAt: new Date("2026-01-02T03:04:05.679Z") },
      { actorType: "API_KEY" },
      { actorId: "user9" },
      { actorLabel: "eve@example.com" },
      { action: "member.removed" },
      { targetType: "invitation" },
      { targetId: "user3" },
      { ip: "10.0.0.2" },
      { userAgent: "curl" },
      { requestId: "req-2" },
      { before: { role: "OWNER" } },
      { after: null },
      { outcome: "DENIED" },
      { prevHash: "f".repeat(64) },
    ];
    for (const c of changes) expect(hashAuditEvent(event(c)), JSON.stringify(c)).not.toBe(base);
  });

  it("treats a missing payload and null alike (SQL NULL)", () => {
    expect(hashAuditEvent(event({ before: undefined }))).toBe(hashAuditEvent(event({ before: null })));
  });
});

function buildChain(n: number) {
  const out: (HashedAuditFields & { id: string; hash: string })[] = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const e = event({ seq: i, prevHash: prev, after: { i } });
    const hash = hashAuditEvent(e);
    out.push({ ...e, id: `e${i}`, hash });
    prev = hash;
  }
  return out;
}

describe("checkLinks", () => {
  it("accepts an intact chain", () => {
    const chain = buildChain(5);
    expect(checkLinks(chain, { seq: 0, hash: GENESIS_HASH })).toEqual({ broken: null, last: { seq: 5, hash: chain[4]!.hash } });
  });

  it("finds an edited event", () => {
    const chain = buildChain(5);
    chain[2] = { ...chain[2]!, actorLabel: "mallory" };
    expect(checkLinks(chain, { seq: 0, hash: GENESIS_HASH }).broken).toMatchObject({ seq: 3, id: "e3", reason: "hash_mismatch", actual: chain[2]!.hash });
  });

  it("finds an edited event whose hash was recomputed, at the next link", () => {
    const chain = buildChain(5);
    const forged = { ...chain[1]!, action: "tenant.deleted" };
    chain[1] = { ...forged, hash: hashAuditEvent(forged) };
    expect(checkLinks(chain, { seq: 0, hash: GENESIS_HASH }).broken).toMatchObject({ seq: 3, reason: "prev_hash_mismatch" });
  });

  it("finds a removed event", () => {
    const chain = buildChain(5);
    chain.splice(1, 1);
    expect(checkLinks(chain, { seq: 0, hash: GENESIS_HASH }).broken).toMatchObject({ seq: 3, reason: "seq_gap", expected: "2" });
  });

  it("starts from a retention anchor", () => {
    const chain = buildChain(6);
    expect(checkLinks(chain.slice(3), { seq: 3, hash: chain[2]!.hash }).broken).toBeNull();
    expect(checkLinks(chain.slice(3), { seq: 3, hash: GENESIS_HASH }).broken).toMatchObject({ seq: 4, reason: "prev_hash_mismatch" });
  });
});
