/**
 * Transport selection: decides, per shared file and attachment, how data reaches the
 * attachment's peers, and says why.
 *
 *  SHARED_MEMORY  every peer is on the same host: the mapping alone, nothing forwarded.
 *  NETWORK        every peer is reached through the file's Redis stream (no co-located
 *                 peers, or the file asks for the network even for co-located ones).
 *  HYBRID         co-located peers through the mapping, remote peers through Redis.
 *
 * "Same host" means the same kernel boot (boot id) AND the same IPC namespace: two containers
 * on one machine with separate IPC namespaces cannot share a POSIX shm mapping, and a node id
 * is only a name (a re-imaged host can come back with the same id).
 *
 * Pure: no I/O, no clock. The caller gathers measurements and health, records the decision
 * (reason + inputs) and re-runs selection when attachments move or health changes.
 */
import type { RoutingErrorCode } from "./errors";

export type Transport = "SHARED_MEMORY" | "NETWORK" | "HYBRID";
export type TransportPreference = "AUTO" | "PREFER_LOCAL" | "PREFER_NETWORK" | "LOCAL_ONLY" | "NETWORK_ONLY" | "ADAPTIVE";

export interface HostIdentity {
  nodeId: string;
  /** /proc/sys/kernel/random/boot_id */
  bootId: string;
  /** The IPC namespace, e.g. readlink /proc/self/ns/ipc → "ipc:[4026531839]" */
  ipcNamespace: string;
}

export interface AttachmentLocation {
  attachmentId: string;
  side: "producer" | "consumer";
  host: HostIdentity;
}

export interface TransportMeasurement {
  /** Median one-way delivery latency, µs. */
  latencyP50Us?: number;
  /** Sustained throughput, messages per second. */
  throughputPerSec?: number;
}

export interface PerformanceRequirements {
  maxLatencyUs?: number;
  minThroughputPerSec?: number;
}

export interface TransportHealth {
  redisReachable: boolean;
  /** Free bytes in /dev/shm (or the tenant's shm root) on the attachment's host. */
  shmFreeBytes: number;
  /** Bytes the file's mapping needs (0 when it already exists). */
  shmRequiredBytes: number;
}

export interface SelectionInput {
  file: { tenantId: string; fileId: string; name?: string; preference: TransportPreference; requirements?: PerformanceRequirements };
  /** The attachment being decided for. */
  attachment: AttachmentLocation;
  /** The file's other attachments, on any node. */
  peers: AttachmentLocation[];
  measurements: { sharedMemory?: TransportMeasurement; network?: TransportMeasurement };
  health: TransportHealth;
  /** The current decision, if any (ADAPTIVE keeps it unless the other transport is clearly better). */
  previous?: Transport;
}

export type ReasonCode =
  | "NO_PEERS"
  | "ALL_PEERS_COLOCATED"
  | "ALL_PEERS_REMOTE"
  | "MIXED_PEERS"
  | "NETWORK_ONLY_PREFERENCE"
  | "PREFER_NETWORK"
  | "PREFER_NETWORK_OVERRIDDEN_BY_LATENCY"
  | "PREFER_NETWORK_REDIS_DOWN"
  | "ADAPTIVE_MEASURED"
  | "SHM_UNAVAILABLE_USING_NETWORK"
  | "REDIS_DOWN_LOCAL_CONTINUES"
  | "REDIS_DOWN_NETWORK_ONLY";

export interface TransportDecision {
  ok: true;
  transport: Transport;
  /** "degraded": some peers cannot be reached right now (Redis down); writes wait or drop per durability. */
  status: "ok" | "degraded";
  reasonCode: ReasonCode;
  reason: string;
  colocatedPeers: string[];
  remotePeers: string[];
  degradedPeers: string[];
  /** Requirements the chosen transport is measured not to meet, and other caveats. */
  warnings: string[];
  inputs: SelectionInput;
}

export interface TransportRefusal {
  ok: false;
  errorCode: Extract<RoutingErrorCode, "TRANSPORT_LOCAL_ONLY_REMOTE_ATTACHMENT" | "TRANSPORT_NETWORK_UNAVAILABLE" | "TRANSPORT_SHM_UNAVAILABLE">;
  reason: string;
  inputs: SelectionInput;
}

export type SelectionResult = TransportDecision | TransportRefusal;

/** Same host for shared memory: same boot AND same IPC namespace (node ids are not enough). */
export function sameHost(a: HostIdentity, b: HostIdentity): boolean {
  return a.bootId === b.bootId && a.ipcNamespace === b.ipcNamespace;
}

const fmtUs = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`);

/** Chooses the transport for one attachment. See the module comment. */
export function selectTransport(input: SelectionInput): SelectionResult {
  const { file, attachment, peers, measurements, health } = input;
  const pref = file.preference;
  const req = file.requirements ?? {};
  const fileName = file.name ?? file.fileId;
  const colocated = peers.filter((p) => sameHost(p.host, attachment.host));
  const remote = peers.filter((p) => !sameHost(p.host, attachment.host));
  const warnings: string[] = [];
  for (const p of remote) {
    if (p.host.nodeId === attachment.host.nodeId) {
      warnings.push(`peer ${p.attachmentId} reports the same node id ${p.host.nodeId} but a different boot id or IPC namespace: treated as remote`);
    }
  }
  const shmOk = health.shmFreeBytes >= health.shmRequiredBytes;
  const redisOk = health.redisReachable;
  const ids = (xs: AttachmentLocation[]) => xs.map((x) => x.attachmentId);
  const remoteHosts = [...new Set(remote.map((p) => p.host.nodeId))];
  const where = `${colocated.length} co-located and ${remote.length} remote peer(s)${remoteHosts.length ? ` on ${remoteHosts.join(", ")}` : ""}`;

  const decide = (transport: Transport, reasonCode: ReasonCode, reason: string, degraded: AttachmentLocation[] = []): TransportDecision => {
    checkRequirements(transport, colocated.length > 0, remote.length > 0);
    return {
      ok: true, transport, status: degraded.length || (transport !== "SHARED_MEMORY" && !redisOk) ? "degraded" : "ok",
      reasonCode, reason, colocatedPeers: ids(colocated), remotePeers: ids(remote), degradedPeers: ids(degraded), warnings, inputs: input,
    };
  };
  const refuse = (errorCode: TransportRefusal["errorCode"], reason: string): TransportRefusal => ({ ok: false, errorCode, reason, inputs: input });

  function meets(m: TransportMeasurement | undefined): { ok: boolean; why: string[] } {
    const why: string[] = [];
    if (!m) return { ok: true, why };
    if (req.maxLatencyUs !== undefined && m.latencyP50Us !== undefined && m.latencyP50Us > req.maxLatencyUs) {
      why.push(`measured p50 ${fmtUs(m.latencyP50Us)} exceeds max latency ${fmtUs(req.maxLatencyUs)}`);
    }
    if (req.minThroughputPerSec !== undefined && m.throughputPerSec !== undefined && m.throughputPerSec < req.minThroughputPerSec) {
      why.push(`measured ${Math.round(m.throughputPerSec)} msg/s is below min throughput ${req.minThroughputPerSec} msg/s`);
    }
    return { ok: why.length === 0, why };
  }
  function checkRequirements(t: Transport, hasLocal: boolean, hasRemote: boolean): void {
    if (t !== "NETWORK" && hasLocal) for (const w of meets(measurements.sharedMemory).why) warnings.push(`shared memory: ${w}`);
    if (t === "NETWORK" || (t === "HYBRID" && hasRemote)) {
      const m = meets(measurements.network);
      for (const w of m.why) warnings.push(`network: ${w}${hasRemote ? " (no faster transport reaches another host)" : ""}`);
    }
  }

  // LOCAL_ONLY: never the network; a peer on another host is refused outright.
  if (pref === "LOCAL_ONLY") {
    if (remote.length) {
      return refuse("TRANSPORT_LOCAL_ONLY_REMOTE_ATTACHMENT",
        `file "${fileName}" is local-only: attachment ${attachment.attachmentId} on ${attachment.host.nodeId} cannot share it with ${remote.length} attachment(s) on another host (${remoteHosts.join(", ")}); attach on the same host or change the transport preference`);
    }
    if (!shmOk) return refuse("TRANSPORT_SHM_UNAVAILABLE", `file "${fileName}" is local-only but /dev/shm has ${health.shmFreeBytes} bytes free and the mapping needs ${health.shmRequiredBytes}`);
    return decide("SHARED_MEMORY", colocated.length ? "ALL_PEERS_COLOCATED" : "NO_PEERS",
      `local-only file; ${colocated.length ? `all ${colocated.length} peer(s) share this host (same boot id and IPC namespace)` : "no peers yet"}: shared memory`);
  }

  // NETWORK_ONLY: everything through Redis, co-located peers included.
  if (pref === "NETWORK_ONLY") {
    if (!redisOk) {
      return decide("NETWORK", "REDIS_DOWN_NETWORK_ONLY",
        `network-only file and Redis is unreachable: delivery to all ${peers.length} peer(s) is paused (durable writes wait in the bounded backlog)`, peers);
    }
    return decide("NETWORK", "NETWORK_ONLY_PREFERENCE",
      `network-only file: all traffic goes through Redis, including ${colocated.length} co-located peer(s)`);
  }

  if (!peers.length) {
    if (!shmOk && redisOk) return decide("NETWORK", "SHM_UNAVAILABLE_USING_NETWORK", `no peers yet and /dev/shm has ${health.shmFreeBytes} bytes free (needs ${health.shmRequiredBytes}): network`);
    if (!shmOk) return refuse("TRANSPORT_SHM_UNAVAILABLE", `/dev/shm has ${health.shmFreeBytes} bytes free (needs ${health.shmRequiredBytes}) and Redis is unreachable`);
    return decide("SHARED_MEMORY", "NO_PEERS", "no peers yet: the local mapping only; re-decided when a peer attaches");
  }

  // Redis down: local traffic continues, remote peers are degraded.
  if (!redisOk && remote.length) {
    if (colocated.length && shmOk) {
      return decide("HYBRID", "REDIS_DOWN_LOCAL_CONTINUES",
        `Redis is unreachable: ${colocated.length} co-located peer(s) continue through shared memory; ${remote.length} remote peer(s) on ${remoteHosts.join(", ")} are degraded until Redis returns`, remote);
    }
    return decide("NETWORK", "REDIS_DOWN_LOCAL_CONTINUES",
      `Redis is unreachable: all ${remote.length} peer(s) are remote (${remoteHosts.join(", ")}) and degraded until Redis returns`, remote);
  }

  if (!shmOk) {
    if (!redisOk) return refuse("TRANSPORT_SHM_UNAVAILABLE", `/dev/shm has ${health.shmFreeBytes} bytes free (needs ${health.shmRequiredBytes}) and Redis is unreachable`);
    return decide("NETWORK", "SHM_UNAVAILABLE_USING_NETWORK",
      `/dev/shm has ${health.shmFreeBytes} bytes free and the mapping needs ${health.shmRequiredBytes}: all ${peers.length} peer(s) through Redis`);
  }

  // From here: shm usable; Redis reachable or no remote peers.
  if (pref === "PREFER_NETWORK" && redisOk) {
    const net = meets(measurements.network);
    if (colocated.length && !net.ok && meets(measurements.sharedMemory).ok) {
      return decide(remote.length ? "HYBRID" : "SHARED_MEMORY", "PREFER_NETWORK_OVERRIDDEN_BY_LATENCY",
        `prefers the network, but for co-located peers the network ${net.why.join(" and ")}; shared memory meets the requirements, so co-located traffic stays local${remote.length ? " and remote peers use Redis" : ""}`);
    }
    return decide("NETWORK", "PREFER_NETWORK", `prefers the network: all ${peers.length} peer(s) (${where}) through Redis`);
  }
  if (pref === "PREFER_NETWORK" && !redisOk) {
    return decide("SHARED_MEMORY", "PREFER_NETWORK_REDIS_DOWN", `prefers the network but Redis is unreachable; all ${colocated.length} peer(s) share this host: shared memory until Redis returns`);
  }

  if (pref === "ADAPTIVE" && colocated.length && !remote.length && redisOk) {
    const shm = measurements.sharedMemory;
    const net = measurements.network;
    if (shm?.latencyP50Us !== undefined && net?.latencyP50Us !== undefined) {
      const shmMeets = meets(shm).ok;
      const netMeets = meets(net).ok;
      // Hysteresis: switch away from the current transport only when the other is ≥ 20% better.
      let pick: Transport = shm.latencyP50Us <= net.latencyP50Us ? "SHARED_MEMORY" : "NETWORK";
      if (input.previous === "NETWORK" && net.latencyP50Us <= shm.latencyP50Us * 1.2 && netMeets) pick = "NETWORK";
      if (input.previous === "SHARED_MEMORY" && shm.latencyP50Us <= net.latencyP50Us * 1.2 && shmMeets) pick = "SHARED_MEMORY";
      if (pick === "NETWORK" && !netMeets && shmMeets) pick = "SHARED_MEMORY";
      if (pick === "SHARED_MEMORY" && !shmMeets && netMeets) pick = "NETWORK";
      return decide(pick, "ADAPTIVE_MEASURED",
        `adaptive: measured p50 shared memory ${fmtUs(shm.latencyP50Us)} vs network ${fmtUs(net.latencyP50Us)}${input.previous ? ` (was ${input.previous})` : ""}: ${pick === "SHARED_MEMORY" ? "shared memory" : "network"}`);
    }
  }

  if (!remote.length) {
    return decide("SHARED_MEMORY", "ALL_PEERS_COLOCATED",
      `all ${colocated.length} peer(s) share this host (same boot id and IPC namespace): shared memory`);
  }
  if (!colocated.length) {
    return decide("NETWORK", "ALL_PEERS_REMOTE",
      `all ${remote.length} peer(s) are on other hosts (${remoteHosts.join(", ")}): network through Redis`);
  }
  return decide("HYBRID", "MIXED_PEERS",
    `${colocated.length} co-located peer(s) through shared memory, ${remote.length} remote peer(s) on ${remoteHosts.join(", ")} through Redis`);
}
