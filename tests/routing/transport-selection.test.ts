import { describe, expect, it } from "vitest";
import { sameHost, selectTransport, type AttachmentLocation, type HostIdentity, type SelectionInput, type TransportPreference } from "../../routing";

const hostA: HostIdentity = { nodeId: "node-a", bootId: "boot-a", ipcNamespace: "ipc:[1]" };
const hostA2: HostIdentity = { nodeId: "node-a2", bootId: "boot-a", ipcNamespace: "ipc:[1]" }; // second worker id, same kernel + namespace
const hostAOtherNs: HostIdentity = { nodeId: "node-a", bootId: "boot-a", ipcNamespace: "ipc:[2]" }; // container with its own IPC namespace
const hostB: HostIdentity = { nodeId: "node-b", bootId: "boot-b", ipcNamespace: "ipc:[1]" };

const att = (id: string, host: HostIdentity, side: "producer" | "consumer" = "consumer"): AttachmentLocation => ({ attachmentId: id, side, host });
const healthy = { redisReachable: true, shmFreeBytes: 1 << 30, shmRequiredBytes: 1 << 20 };

function input(preference: TransportPreference, peers: AttachmentLocation[], over: Partial<SelectionInput> = {}): SelectionInput {
  return {
    file: { tenantId: "t1", fileId: "f1", name: "prices", preference },
    attachment: att("me", hostA, "producer"),
    peers,
    measurements: { sharedMemory: { latencyP50Us: 1, throughputPerSec: 5e6 }, network: { latencyP50Us: 80, throughputPerSec: 2e5 } },
    health: healthy,
    ...over,
  };
}

describe("selectTransport", () => {
  it("same host means same boot id AND same IPC namespace, not the same node id", () => {
    expect(sameHost(hostA, hostA2)).toBe(true);
    expect(sameHost(hostA, hostAOtherNs)).toBe(false);
    const d = selectTransport(input("AUTO", [att("p1", hostAOtherNs)]));
    expect(d.ok && d.transport).toBe("NETWORK");
    expect(d.ok && d.warnings.join()).toMatch(/same node id node-a but a different boot id or IPC namespace/);
    const d2 = selectTransport(input("AUTO", [att("p1", hostA2)]));
    expect(d2.ok && d2.transport).toBe("SHARED_MEMORY");
  });

  it("AUTO: co-located → shared memory, remote → network, both → hybrid; each with reason and inputs", () => {
    const local = selectTransport(input("AUTO", [att("l1", hostA2)]));
    expect(local).toMatchObject({ ok: true, transport: "SHARED_MEMORY", reasonCode: "ALL_PEERS_COLOCATED", colocatedPeers: ["l1"] });
    expect(local.ok && local.reason).toMatch(/same boot id and IPC namespace/);
    const remote = selectTransport(input("AUTO", [att("r1", hostB)]));
    expect(remote).toMatchObject({ ok: true, transport: "NETWORK", reasonCode: "ALL_PEERS_REMOTE", remotePeers: ["r1"] });
    expect(remote.ok && remote.reason).toContain("node-b");
    const mixed = selectTransport(input("AUTO", [att("l1", hostA2), att("r1", hostB)]));
    expect(mixed).toMatchObject({ ok: true, transport: "HYBRID", reasonCode: "MIXED_PEERS", status: "ok" });
    expect(mixed.inputs.peers).toHaveLength(2);
    const none = selectTransport(input("AUTO", []));
    expect(none).toMatchObject({ ok: true, transport: "SHARED_MEMORY", reasonCode: "NO_PEERS" });
  });

  it("LOCAL_ONLY refuses a remote attachment with a clear error code", () => {
    const d = selectTransport(input("LOCAL_ONLY", [att("l1", hostA2), att("r1", hostB)]));
    expect(d.ok).toBe(false);
    expect(!d.ok && d.errorCode).toBe("TRANSPORT_LOCAL_ONLY_REMOTE_ATTACHMENT");
    expect(!d.ok && d.reason).toMatch(/local-only.*node-b/);
    expect(selectTransport(input("LOCAL_ONLY", [att("l1", hostA2)]))).toMatchObject({ ok: true, transport: "SHARED_MEMORY" });
  });

  it("NETWORK_ONLY routes even co-located traffic through Redis", () => {
    const d = selectTransport(input("NETWORK_ONLY", [att("l1", hostA2)]));
    expect(d).toMatchObject({ ok: true, transport: "NETWORK", reasonCode: "NETWORK_ONLY_PREFERENCE", colocatedPeers: ["l1"] });
    const down = selectTransport(input("NETWORK_ONLY", [att("l1", hostA2)], { health: { ...healthy, redisReachable: false } }));
    expect(down).toMatchObject({ ok: true, transport: "NETWORK", status: "degraded", degradedPeers: ["l1"] });
  });

  it("Redis down: local traffic continues, remote peers are marked degraded", () => {
    const d = selectTransport(input("AUTO", [att("l1", hostA2), att("r1", hostB)], { health: { ...healthy, redisReachable: false } }));
    expect(d).toMatchObject({ ok: true, transport: "HYBRID", status: "degraded", reasonCode: "REDIS_DOWN_LOCAL_CONTINUES", degradedPeers: ["r1"] });
    expect(d.ok && d.reason).toMatch(/co-located peer\(s\) continue through shared memory/);
    const onlyLocal = selectTransport(input("AUTO", [att("l1", hostA2)], { health: { ...healthy, redisReachable: false } }));
    expect(onlyLocal).toMatchObject({ ok: true, transport: "SHARED_MEMORY", status: "ok" });
  });

  it("no /dev/shm space: network when Redis is up, refusal when it is not", () => {
    const full = { ...healthy, shmFreeBytes: 10 };
    expect(selectTransport(input("AUTO", [att("l1", hostA2)], { health: full }))).toMatchObject({ ok: true, transport: "NETWORK", reasonCode: "SHM_UNAVAILABLE_USING_NETWORK" });
    const d = selectTransport(input("AUTO", [att("l1", hostA2)], { health: { ...full, redisReachable: false } }));
    expect(!d.ok && d.errorCode).toBe("TRANSPORT_SHM_UNAVAILABLE");
    const lo = selectTransport(input("LOCAL_ONLY", [], { health: full }));
    expect(!lo.ok && lo.errorCode).toBe("TRANSPORT_SHM_UNAVAILABLE");
  });

  it("PREFER_NETWORK uses Redis, unless the measured network misses the latency requirement and shared memory meets it", () => {
    expect(selectTransport(input("PREFER_NETWORK", [att("l1", hostA2)]))).toMatchObject({ ok: true, transport: "NETWORK", reasonCode: "PREFER_NETWORK" });
    const strict = input("PREFER_NETWORK", [att("l1", hostA2)]);
    strict.file.requirements = { maxLatencyUs: 10 };
    const d = selectTransport(strict);
    expect(d).toMatchObject({ ok: true, transport: "SHARED_MEMORY", reasonCode: "PREFER_NETWORK_OVERRIDDEN_BY_LATENCY" });
    expect(d.ok && d.reason).toMatch(/80\.0 µs exceeds max latency 10\.0 µs/);
  });

  it("a remote peer under a latency requirement the network cannot meet is served, with a warning naming the numbers", () => {
    const i = input("AUTO", [att("r1", hostB)]);
    i.file.requirements = { maxLatencyUs: 20, minThroughputPerSec: 1e6 };
    const d = selectTransport(i);
    expect(d.ok && d.transport).toBe("NETWORK");
    expect(d.ok && d.warnings.join("\n")).toMatch(/network: measured p50 80\.0 µs exceeds max latency 20\.0 µs/);
    expect(d.ok && d.warnings.join("\n")).toMatch(/200000 msg\/s is below min throughput 1000000/);
  });

  it("ADAPTIVE follows measurements with hysteresis", () => {
    const slowShm = { sharedMemory: { latencyP50Us: 100 }, network: { latencyP50Us: 50 } };
    expect(selectTransport(input("ADAPTIVE", [att("l1", hostA2)], { measurements: slowShm }))).toMatchObject({ ok: true, transport: "NETWORK", reasonCode: "ADAPTIVE_MEASURED" });
    const close = { sharedMemory: { latencyP50Us: 50 }, network: { latencyP50Us: 55 } };
    // Network is within 20% of shared memory: an existing NETWORK decision is kept, a new one picks shm.
    expect(selectTransport(input("ADAPTIVE", [att("l1", hostA2)], { measurements: close, previous: "NETWORK" }))).toMatchObject({ transport: "NETWORK" });
    expect(selectTransport(input("ADAPTIVE", [att("l1", hostA2)], { measurements: close }))).toMatchObject({ transport: "SHARED_MEMORY" });
  });
});
