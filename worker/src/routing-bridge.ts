/**
 * Cross-node routing inside the worker: bridges this node's mappings to the files' Redis streams
 * (docs/spec/redis-routing.md; the library is routing/).
 *
 * Per shared file with local attachments (a FileRoute):
 *  - presence: this node's attachments and host identity (boot id, IPC namespace) in the file's
 *    presence hash, refreshed every second; the other nodes' entries are the remote peers. Works
 *    with the control plane down.
 *  - decision: selectTransport per attachment (co-located peers → shared memory, remote → Redis),
 *    re-made when peers or Redis health change; reported to the control plane and on /metrics.
 *  - forward: while there are remote peers (or the file is NETWORK_ONLY), local writes go to the
 *    file's stream: stream messages read from the ring by the worker's own reader; variable
 *    writes found by polling slot versions, stamped with the node's HLC.
 *  - apply: a RouteConsumer delivers the other nodes' records; messages are appended to the ring,
 *    variables go through the VariableMerger (last writer wins on the HLC) so all nodes converge.
 *    What the worker wrote itself (ring seqs, slot versions) is never forwarded again.
 *  - persistence next to the mapping (`<stateDir>/routing/<tenant>/<file>.json`): the producer
 *    epoch and next seq with the ring position forwarded up to, the ring seqs the worker appended,
 *    and the consumer's applied state (last id + dedupe window), rewritten at a bounded rate; what
 *    was applied since goes into the apply journal (apply-journal.ts: an intent before each
 *    append, a completion after it, one pwrite each). A restarted worker replays the journal,
 *    resumes forwarding where Redis last confirmed (records sent again keep their seqs, consumers
 *    drop them) and neither appends a record twice nor loses one.
 *  - NETWORK_ONLY: producers get their own mapping (the outbox); the worker forwards it and
 *    applies every record, its own included, to the main mapping the consumers read, so even
 *    co-located traffic goes through Redis.
 */
import { EventEmitter } from "node:events";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { SharedFile } from "../../native/lib/index";
import {
  DedupeWindow,
  HybridLogicalClock,
  RouteConsumer,
  RouteProducer,
  VariableMerger,
  connectClient,
  createRedisClient,
  fileKeys,
  groupName,
  isRoutingError,
  presencePeers,
  publishPresence,
  readPresence,
  selectTransport,
  type AttachmentLocation,
  type DedupeSnapshot,
  type FileRef,
  type HostIdentity,
  type RedisClient,
  type RedisTarget,
  type RoutedRecord,
  type RouteConsumerOptions,
  type SelectionResult,
  type TransportPreference,
} from "../../routing";
import { ApplyJournal, appendJournaled } from "./apply-journal";
import type { CatalogueFile, RouteReport, RoutingConfigResponse, TransportStats } from "../../src/server/contracts/worker";
import type { Logger } from "./logger";
import type { WorkerMetrics } from "./metrics";

const PRESENCE_INTERVAL_MS = 1000;
const PRESENCE_TTL_MS = 6000;
const VARIABLE_POLL_MS = 5;
/**
 * Forwarding continues this long after the last remote peer was seen: a peer whose worker
 * crashed drops out of presence, but its consumer group waits in Redis and it resumes from it
 * after the restart, so writes made meanwhile must still reach the stream.
 */
const FORWARD_LINGER_MS = 5 * 60_000;
/**
 * The state file is rewritten at most this often (timer) and whenever the apply journal grows
 * past JOURNAL_COMPACT_BYTES; between two writes the journal holds what was applied.
 */
const PERSIST_INTERVAL_MS = 100;
/** A queue route waits this long for Redis at start before delivering locally (see runStreamLoop). */
const QUEUE_START_WAIT_MS = 3000;
const JOURNAL_COMPACT_BYTES = 1 << 20;

export type RoutingRedis = NonNullable<RoutingConfigResponse["redis"]>;

/** How long the producer connection may stay not ready while Redis is reachable before it is reconnected. */
const PRODUCER_STUCK_MS = 10_000;

/**
 * Whether the file's producers on a routing worker write their own mapping (the outbox, read
 * only by the worker) instead of the main one:
 *  - NETWORK_ONLY: everything goes through Redis, co-located traffic too;
 *  - QUEUE streams (unless LOCAL_ONLY): the worker decides per message whether it stays on this
 *    node (no remote peers: copied into the main ring) or goes to the file's shared group `q`
 *    (remote peers: each node appends to its main ring only what it claimed), so a message is
 *    consumed on exactly one node. Producers keep their mapping for their whole attachment, so
 *    the decision cannot live in them: a peer may appear while they are attached.
 */
export function producerUsesOutbox(file: Pick<CatalogueFile, "transportPreference" | "pattern" | "kind">): boolean {
  if (file.transportPreference === "NETWORK_ONLY") return true;
  return file.pattern === "QUEUE" && file.kind === "STREAM" && file.transportPreference !== "LOCAL_ONLY";
}

export interface LocalAttachment {
  id: string;
  side: "PRODUCER" | "CONSUMER";
  preference: TransportPreference;
}

/** What the bridge needs from the worker. */
export interface BridgeOptions {
  redis: RoutingRedis;
  tenantId: string;
  nodeId: string;
  host: HostIdentity;
  stateDir: string;
  /** Path of a file's main mapping, and of its NETWORK_ONLY outbox. */
  mappingPath(fileId: string): string;
  outboxPath(fileId: string): string;
  /** Creates the outbox mapping when absent (same layout as the file). */
  ensureOutbox(file: CatalogueFile): void;
  log: Logger;
  metrics: WorkerMetrics;
}

interface Sidecar {
  v: 1;
  generation: string;
  epoch: string;
  /** Seq the next forwarded record gets. */
  nextSeq: number;
  /** Ring position (of the forwarded mapping) up to which everything was forwarded or skipped. */
  forwardPos: number;
  /** Ring seqs of the main mapping appended by the worker (applied remote messages) at or after forwardPos. */
  own: number[];
  lastId: string;
  window: DedupeSnapshot;
  /** Slot name → [wallMs, counter, nodeId] of the value in the mapping. */
  stamps: Record<string, [number, number, string]>;
  /** Remote peers last seen (used until the first presence read after a restart). */
  peers: AttachmentLocation[];
  /** When a remote peer was last seen (ms). */
  remoteSeenAt?: number;
  /** Which ring forwardPos counts in (absent: "main", as written before outboxes for queues). */
  forwardRing?: "main" | "outbox";
  /**
   * Generation of the apply journal that continues this snapshot: entries of this generation
   * were applied after the snapshot was taken (apply-journal.ts). Absent in older state files.
   */
  journalGen?: number;
}

class Meter {
  count = 0;
  bytes = 0;
  total = 0;
  private samples: number[] = [];
  private last = { count: 0, bytes: 0, at: Date.now() };

  add(bytes: number, latencyUs?: number): void {
    this.count++;
    this.total++;
    this.bytes += bytes;
    if (latencyUs !== undefined && latencyUs >= 0) {
      if (this.samples.length < 4096) this.samples.push(latencyUs);
      else this.samples[Math.floor(Math.random() * 4096)] = latencyUs;
    }
  }

  /** Rates since the previous snapshot; resets the interval. */
  snapshot(): TransportStats {
    const now = Date.now();
    const secs = Math.max(0.001, (now - this.last.at) / 1000);
    const s = [...this.samples].sort((a, b) => a - b);
    const pct = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : null);
    const out: TransportStats = {
      messagesPerSec: (this.count - this.last.count) / secs,
      bytesPerSec: (this.bytes - this.last.bytes) / secs,
      latencyP50Us: pct(0.5),
      latencyP99Us: pct(0.99),
      messagesTotal: this.total,
    };
    this.last = { count: this.count, bytes: this.bytes, at: now };
    this.samples = [];
    return out;
  }

  /** Median of the current interval (for the selection's measurements). */
  p50(): number | undefined {
    if (!this.samples.length) return undefined;
    const s = [...this.samples].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
  }
}

/** One shared file routed by this node. */
class FileRoute {
  readonly ref: FileRef;
  readonly local = new Map<string, LocalAttachment>();
  remote: AttachmentLocation[] = [];
  presenceKnown = false;
  decision: SelectionResult | null = null;
  decidedAt = new Date();
  readonly shm = new Meter();
  readonly net = new Meter();
  streamLagMs: number | null = null;
  pending = 0;
  deadLetters = 0;
  dropped = 0;
  closed = false;
  private readonly mapping: SharedFile;
  private readonly outbox: SharedFile | null;
  private readonly side: Sidecar;
  private readonly sidecarPath: string;
  private readonly journal: ApplyJournal;
  private readonly own = new Set<number>();
  private readonly window: DedupeWindow;
  private producer: RouteProducer | null = null;
  private consumer: RouteConsumer | null = null;
  private consumerOptions: RouteConsumerOptions | null = null;
  private readonly clock: HybridLogicalClock;
  private readonly merger: VariableMerger;
  private readonly lastSeen = new Map<string, number>();
  private readonly ownVersion = new Map<string, number>();
  private pendingForward: [number, number][] = [];
  private firstSeq = 1;
  private varTimer: NodeJS.Timeout | null = null;
  private streamLoop: Promise<void> | null = null;
  private dirty = false;

  constructor(
    readonly bridge: RoutingBridge,
    public file: CatalogueFile,
  ) {
    this.ref = { tenantId: bridge.o.tenantId, fileId: file.id };
    fileKeys(this.ref); // validates ids
    this.mapping = SharedFile.open(bridge.o.mappingPath(file.id));
    this.outbox = producerUsesOutbox(file) ? (bridge.o.ensureOutbox(file), SharedFile.open(bridge.o.outboxPath(file.id))) : null;
    this.sidecarPath = path.join(bridge.o.stateDir, "routing", this.ref.tenantId, `${file.id}.json`);
    this.side = this.loadSidecar();
    for (const s of this.side.own) this.own.add(s);
    this.window = new DedupeWindow({}, this.side.window);
    this.clock = new HybridLogicalClock(bridge.o.nodeId);
    this.merger = new VariableMerger(this.clock);
    for (const [name, [wallMs, counter, nodeId]] of Object.entries(this.side.stamps)) {
      this.merger.seed(name, { wallMs, counter, nodeId }, new Uint8Array());
      this.clock.receive({ wallMs, counter, nodeId });
    }
    this.journal = this.openJournal();
    this.remote = this.side.peers;
    this.remoteSeenAt = this.side.remoteSeenAt ?? 0;
  }

  /** Last time a remote peer was present (ms); see FORWARD_LINGER_MS. */
  remoteSeenAt = 0;
  /** The forwarding reader reached the ring's head at least once since start. */
  readerCaughtUp = false;

  get networkOnly(): boolean {
    return this.file.transportPreference === "NETWORK_ONLY";
  }

  get localOnly(): boolean {
    return this.file.transportPreference === "LOCAL_ONLY";
  }

  /** Queue pattern through the outbox: each message to one node (see producerUsesOutbox). */
  get queue(): boolean {
    return this.outbox !== null && this.file.pattern === "QUEUE";
  }

  get generation(): string {
    return this.mapping.generation;
  }

  /** Forwarding happens while some node other than this one has attachments (or NETWORK_ONLY). */
  get forwarding(): boolean {
    if (this.localOnly) return false;
    if (this.networkOnly || this.remote.length > 0) return true;
    return Date.now() - this.remoteSeenAt < FORWARD_LINGER_MS;
  }

  private loadSidecar(): Sidecar {
    const fresh: Sidecar = {
      v: 1,
      generation: this.mapping.generation,
      epoch: `g${this.mapping.generation}${randomBytes(4).toString("hex")}`,
      nextSeq: 1,
      forwardPos: this.file.kind === "STREAM" ? (this.outbox ?? this.mapping).stream.head : 0,
      own: [],
      lastId: "0-0",
      window: [],
      stamps: {},
      peers: [],
      journalGen: 1,
    };
    fresh.forwardRing = this.outbox ? "outbox" : "main";
    try {
      const s = JSON.parse(readFileSync(this.sidecarPath, "utf8")) as Sidecar;
      if (s.v === 1 && s.generation === this.mapping.generation && typeof s.epoch === "string" && Number.isSafeInteger(s.nextSeq)) {
        // State written while the producers used the other ring (the file became a routed queue):
        // its position means nothing in this one; start forwarding at this ring's head.
        if ((s.forwardRing ?? "main") !== fresh.forwardRing) {
          s.forwardPos = fresh.forwardPos;
          s.forwardRing = fresh.forwardRing;
          s.own = [];
        }
        return s;
      }
    } catch {
      /* none or unreadable: start fresh */
    }
    return fresh;
  }

  /**
   * Opens the apply journal that continues the state file and replays it: records applied since
   * the snapshot go into the window, ring seqs the worker appended into `own`, variable stamps
   * into the merger; an append whose completion was not recorded is decided from the ring.
   * The journal's name carries the mapping generation, so a re-created file never reads (or
   * resets) the journal of its previous incarnation.
   */
  private openJournal(): ApplyJournal {
    const dir = path.dirname(this.sidecarPath);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const name = `${this.file.id}.${this.mapping.generation}.journal`;
    for (const f of readdirSync(dir)) {
      if (f !== name && f.startsWith(`${this.file.id}.`) && f.endsWith(".journal")) rmSync(path.join(dir, f), { force: true });
    }
    const journal = ApplyJournal.open(path.join(dir, name), this.side.journalGen ?? 1);
    const forwardPos = this.side.forwardPos;
    const r = journal.recover({
      markApplied: (key, seq) => this.window.markAppliedKey(key, seq),
      ownRingSeq: (seq) => {
        if (seq >= forwardPos) this.own.add(seq);
      },
      stamp: (name, stamp) => {
        this.merger.seed(name, stamp, new Uint8Array());
        this.clock.receive(stamp);
      },
      stream: this.file.kind === "STREAM" ? this.mapping.stream : null,
    });
    if (r) {
      this.bridge.o.log.info(
        { file: this.file.name, origin: r.intent.key, seq: r.intent.seq, ...r.resolution },
        r.resolution.appended ? "apply interrupted by a crash: the message is in the ring, it will not be appended again" : "apply interrupted by a crash before the append: the message will be applied when Redis delivers it again",
      );
    }
    if (journal.entries.length) this.dirty = true;
    return journal;
  }

  /**
   * Writes the state file atomically (tmp + rename), then restarts the apply journal under the
   * generation the state file names (compaction: everything journaled so far is in the snapshot).
   * Called by the bridge's timer at most every PERSIST_INTERVAL_MS, when the journal grows large,
   * and on close; never per record.
   */
  persist(): void {
    this.side.own = [...this.own];
    this.side.window = this.window.snapshot();
    this.side.peers = this.remote;
    this.side.remoteSeenAt = this.remoteSeenAt;
    const stamps: Sidecar["stamps"] = {};
    for (const [name, v] of this.merger.entries()) stamps[name] = [v.stamp.wallMs, v.stamp.counter, v.stamp.nodeId];
    this.side.stamps = stamps;
    const nextGen = this.journal.generation + 1;
    this.side.journalGen = nextGen;
    mkdirSync(path.dirname(this.sidecarPath), { recursive: true, mode: 0o700 });
    const tmp = `${this.sidecarPath}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.side), { mode: 0o600 });
    renameSync(tmp, this.sidecarPath);
    // Only now: a crash before the rename leaves the old snapshot with the journal it names.
    this.journal.reset(nextGen);
    this.dirty = false;
  }

  persistIfDirty(): void {
    if (this.dirty) this.persist();
  }

  async start(): Promise<void> {
    const b = this.bridge;
    if (this.localOnly) return;
    this.producer = new RouteProducer({
      redis: { client: b.producerClient },
      nodeId: b.o.nodeId,
      epoch: this.side.epoch,
      onEvent: (e) => {
        if (e.type === "dropped") this.dropped += e.records;
        if (e.type === "overflow") b.o.log.warn({ file: this.file.name, backlog: e.backlogRecords }, "routing backlog full: records refused");
      },
    });
    // Durable files keep a bounded backlog while Redis is down; the others drop (and count) it.
    this.producer.configureFile(this.ref, { durable: this.file.durability === "DURABLE" });
    this.firstSeq = this.side.nextSeq;
    this.producer.resumeFile(this.ref, this.side.nextSeq);
    const queue = this.file.pattern === "QUEUE";
    this.consumerOptions = {
      redis: b.target,
      file: this.ref,
      nodeId: b.o.nodeId,
      pattern: queue ? "queue" : "broadcast",
      // Variables: everything retained (the merger keeps the latest); broadcast streams: from now
      // on; queues: everything retained, whichever node creates the shared group first (frames
      // forwarded before any node consumed are still somebody's to take).
      startId: this.file.kind === "VARIABLES" || queue ? "0" : "$",
      // With an outbox this node's own records are in Redis only: they are applied like others.
      skipOwnOrigin: this.outbox === null,
      blockMs: 2000,
      claimIdleMs: 10_000,
      apply: (rec) => this.apply(rec),
      stateStore: {
        load: async () => (this.side.lastId !== "0-0" ? { lastId: this.side.lastId, window: this.window.snapshot() } : null),
        // The records are in the apply journal already (written around each apply), so the
        // consumer may acknowledge at once; the state file follows within PERSIST_INTERVAL_MS.
        save: async (state) => {
          this.side.lastId = state.lastId;
          this.dirty = true;
          return false;
        },
      },
      onEvent: (e) => {
        if (e.type === "dead-lettered") this.deadLetters++;
        if (e.type === "error" && !this.closed) b.o.log.debug({ file: this.file.name, err: e.error }, "routing consumer error (retrying)");
      },
    };
    if (this.file.kind === "STREAM") this.streamLoop = this.runStreamLoop();
    else {
      const src = this.outbox ?? this.mapping;
      for (const name of src.variableNames()) this.lastSeen.set(name, src.variable(name).version);
      this.varTimer = setInterval(() => this.pollVariables(), VARIABLE_POLL_MS);
    }
    if (this.queue) {
      // The shared group first (presence waits for it), then a consumer while there are local ones.
      void this.ensureQueueGroup().then(() => this.syncQueueConsumer());
      return;
    }
    // The consumer retries its start until Redis answers (the route works locally meanwhile).
    this.consumer = new RouteConsumer(this.consumerOptions);
    void this.startConsumer();
  }

  /**
   * Queue files: creates the shared group `q` (at "0", see startId) so this node can announce
   * itself, even with producers only; retried until Redis answers.
   */
  private async ensureQueueGroup(): Promise<void> {
    const keys = fileKeys(this.ref);
    for (let delay = 200; !this.closed; delay = Math.min(delay * 2, 2000)) {
      try {
        await this.bridge.commands.call("XGROUP", ["CREATE", keys.stream, groupName("queue", this.bridge.o.nodeId), "0", "MKSTREAM"]);
      } catch (e) {
        if (!String((e as Error).message).includes("BUSYGROUP")) {
          await new Promise((r) => setTimeout(r, delay));
          continue;
        }
      }
      this.consumerReady = true;
      void this.bridge.announce(this);
      return;
    }
  }

  private queueChain: Promise<void> = Promise.resolve();

  /**
   * Queue files: this node claims from the shared group only while it has local consumers.
   * A node without them would take messages into a ring nobody reads, away from the nodes whose
   * consumers wait for them. Serialized: attachments may come and go faster than a start.
   */
  syncQueueConsumer(): Promise<void> {
    if (!this.queue || !this.consumerOptions) return this.queueChain;
    this.queueChain = this.queueChain
      .then(async () => {
        const wanted = !this.closed && this.consumerReady && [...this.local.values()].some((a) => a.side === "CONSUMER");
        if (wanted && !this.consumer) {
          this.consumer = new RouteConsumer(this.consumerOptions!);
          await this.startConsumer();
        } else if (!wanted && this.consumer) {
          const c = this.consumer;
          this.consumer = null;
          await c.close(2000);
        }
      })
      .catch((e: unknown) => this.bridge.o.log.warn({ file: this.file.name, err: (e as Error).message }, "queue consumer start/stop failed"));
    return this.queueChain;
  }

  /** The consumer group exists (presence is announced only then: frames sent to us are kept). */
  consumerReady = false;

  private async startConsumer(): Promise<void> {
    for (let delay = 200; !this.closed; delay = Math.min(delay * 2, 2000)) {
      const c = this.consumer;
      if (!c) return;
      try {
        // A start that hangs (a Cluster client that never settles) is abandoned and retried.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          c.start(),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("consumer start timed out")), 15_000))),
        ]).finally(() => clearTimeout(timer));
        this.consumerReady = true;
        void this.bridge.announce(this);
        return;
      } catch (e) {
        this.bridge.o.log.debug({ file: this.file.name, err: (e as Error).message }, "routing consumer cannot start yet");
        void c.close(100).catch(() => undefined);
        if (this.closed) return;
        await new Promise((r) => setTimeout(r, delay));
        // A failed start leaves the consumer unusable: build a fresh one with the same options.
        this.consumer = new RouteConsumer(this.consumerOptions!);
      }
    }
  }

  // ---- forward: local writes → Redis ----

  private async runStreamLoop(): Promise<void> {
    const src = this.outbox ?? this.mapping;
    // Until the producer's connection is up the ring itself holds what is to be forwarded
    // (a send now would fail and, for a non-durable file, be dropped). A queue delivers locally
    // while Redis is unreachable, but gives the connection a moment first: after a restart, the
    // messages read again were probably forwarded already.
    const waitUntil = this.queue && !this.networkOnly ? Date.now() + QUEUE_START_WAIT_MS : Infinity;
    while (!this.closed && this.bridge.producerClient.status !== "ready" && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 50));
    if (this.closed) return;
    const reader = src.stream.reader({ from: this.side.forwardPos, register: false });
    try {
      while (!this.closed) {
        let n = 0;
        for (let m = reader.next(); m; m = n < 4096 ? reader.next() : null) {
          const pending = this.onLocalMessage(m.seq, m.data);
          if (pending) await pending;
          n++;
        }
        if (n === 0) {
          this.readerCaughtUp = true;
          this.advanceConfirmed();
          await reader.waitForData({ timeoutMs: 100 });
        } else await new Promise((r) => setImmediate(r));
      }
    } catch (e) {
      if (!this.closed) this.bridge.o.log.error({ file: this.file.name, err: (e as Error).message }, "routing stream reader failed");
    } finally {
      reader.close();
    }
  }

  /** One message of the forwarded ring; a promise only when a local queue delivery must wait for space. */
  private onLocalMessage(seq: number, data: Uint8Array): Promise<void> | void {
    if (!this.outbox && this.own.delete(seq)) {
      this.skip(seq);
      return;
    }
    this.shm.add(data.byteLength);
    if (this.queue && !this.queueForwards()) return this.deliverLocally(seq, data);
    if (!this.forwarding || !this.producer) {
      this.skip(seq);
      return;
    }
    try {
      this.producer.publish(this.ref, data);
      this.net.add(data.byteLength);
      this.bridge.o.metrics.routeRecords.inc({ direction: "out" });
      const sent = this.firstSeq + this.producer.fileProgress(this.ref).enqueued - 1;
      this.pendingForward.push([sent, seq + 1]);
    } catch (e) {
      if (isRoutingError(e, "ROUTE_BACKLOG_FULL")) this.dropped++;
      else this.bridge.o.log.warn({ file: this.file.name, err: (e as Error).message }, "cannot forward a message");
      this.skip(seq);
    }
  }

  /**
   * Queue files: whether the next outbox message goes to the shared group (else it stays here).
   * To the group while another node is (or lately was) attached, Redis is reachable, and either a
   * remote node has consumers or this one has none (the message then waits in the group for one).
   */
  private queueForwards(): boolean {
    if (this.networkOnly) return true;
    if (!this.forwarding || !this.producer || this.bridge.producerClient.status !== "ready") return false;
    for (const p of this.remote) if (p.side === "consumer") return true;
    for (const a of this.local.values()) if (a.side === "CONSUMER") return false;
    return true;
  }

  /**
   * Queue without remote consumers (or with Redis unreachable): the outbox message stays on this
   * node, copied into the main ring with the same journaled append as an applied record (key:
   * this node and the outbox generation, seq: outbox seq + 1), so a crash cannot copy it twice.
   * Each outbox message is either copied here or forwarded, decided once by this reader.
   */
  private async deliverLocally(seq: number, data: Uint8Array): Promise<void> {
    const key = DedupeWindow.key(this.bridge.o.nodeId, `out${this.outbox!.generation}`);
    if (!this.window.seenKey(key, seq + 1)) {
      await appendJournaled(this.journal, this.mapping.stream, key, seq + 1, data);
      this.window.markAppliedKey(key, seq + 1);
      this.dirty = true;
    }
    this.skip(seq);
  }

  /** A ring entry that needs no forwarding: it counts as done once everything before it is. */
  private skip(seq: number): void {
    if (this.pendingForward.length) this.pendingForward.push([this.pendingForward[this.pendingForward.length - 1]![0], seq + 1]);
    else {
      this.side.forwardPos = seq + 1;
      this.dirty = true;
    }
  }

  /** Moves forwardPos/nextSeq past what Redis confirmed. */
  advanceConfirmed(): void {
    if (!this.producer || !this.pendingForward.length) return;
    const confirmedBelow = this.firstSeq + this.producer.fileProgress(this.ref).done;
    let moved = false;
    while (this.pendingForward.length && this.pendingForward[0]![0] < confirmedBelow) {
      const [sent, pos] = this.pendingForward.shift()!;
      this.side.forwardPos = pos;
      this.side.nextSeq = sent + 1;
      moved = true;
    }
    if (moved) this.dirty = true;
  }

  private pollVariables(): void {
    if (this.closed) return;
    const src = this.outbox ?? this.mapping;
    try {
      for (const name of src.variableNames()) {
        const v = src.variable(name);
        const ver = v.version;
        if (ver === this.lastSeen.get(name)) continue;
        this.lastSeen.set(name, ver);
        if (!this.outbox && ver === this.ownVersion.get(name)) continue;
        const r = v.read();
        this.lastSeen.set(name, r.version);
        this.shm.add(r.data.byteLength);
        const stamp = this.outbox ? this.clock.tick() : this.merger.writeLocal(name, r.data);
        // The merger must know this stamp after a crash too, or an older remote write could
        // replace the newer local value here while every other node keeps the local one.
        if (!this.outbox) this.journal.stamp(name, stamp);
        this.dirty = true;
        if (this.forwarding && this.producer) {
          try {
            this.producer.writeVariable(this.ref, name, r.data, stamp);
            this.net.add(r.data.byteLength);
            this.bridge.o.metrics.routeRecords.inc({ direction: "out" });
          } catch (e) {
            if (isRoutingError(e, "ROUTE_BACKLOG_FULL")) this.dropped++;
            else throw e;
          }
        }
      }
    } catch (e) {
      if (!this.closed) this.bridge.o.log.warn({ file: this.file.name, err: (e as Error).message }, "variable poll failed");
    }
  }

  // ---- apply: Redis → mapping ----

  private async apply(rec: RoutedRecord): Promise<void> {
    if (this.closed) throw new Error("route closed");
    const key = DedupeWindow.key(rec.origin, rec.epoch);
    if (this.window.seenKey(key, rec.seq)) return; // applied before a restart
    const lagMs = Math.max(0, Date.now() - rec.sentAt);
    if (rec.kind === "message") {
      if (this.file.kind !== "STREAM") throw new Error("a stream message for a variables file");
      // Intent, append, completion: a crash anywhere in between is decided on restart.
      const seq = await appendJournaled(this.journal, this.mapping.stream, key, rec.seq, rec.payload);
      if (!this.outbox) this.own.add(seq);
    } else {
      if (this.file.kind !== "VARIABLES" || !rec.hlc) throw new Error("a variable write for a stream file");
      this.pollVariables(); // local writes not seen yet get their stamps first
      if (this.merger.offer(rec.name, rec.hlc, rec.payload)) {
        // Re-applying after a crash between this write and the journal entry writes the same
        // bytes under the same stamp again: the value is unchanged (only the slot version moves).
        const ver = this.mapping.variable(rec.name).write(rec.payload);
        this.ownVersion.set(rec.name, ver);
        if (!this.outbox) this.lastSeen.set(rec.name, ver);
        this.journal.stamp(rec.name, rec.hlc, { key, seq: rec.seq });
      } else this.journal.applied(key, rec.seq, -1);
    }
    this.window.markAppliedKey(key, rec.seq);
    this.dirty = true;
    if (this.journal.size > JOURNAL_COMPACT_BYTES) this.persist();
    this.streamLagMs = lagMs;
    this.net.add(rec.payload.byteLength, lagMs * 1000);
    this.bridge.o.metrics.routeRecords.inc({ direction: "in" });
    this.bridge.o.metrics.routeLatency.observe(lagMs / 1000);
  }

  // ---- presence, decisions, stats ----

  async refreshPresence(publish: boolean): Promise<void> {
    const b = this.bridge;
    const attachments = [...this.local.values()].map((a) => ({ id: a.id, side: a.side === "PRODUCER" ? ("producer" as const) : ("consumer" as const) }));
    // Announced only once our consumer group exists: a peer that sees us forwards to us, and
    // frames added before the group was created would never reach it.
    if (publish && (this.consumerReady || this.localOnly)) await publishPresence(b.commands, this.ref, b.o.host, attachments, PRESENCE_TTL_MS);
    const entries = await readPresence(b.commands, this.ref);
    this.remote = presencePeers(entries, b.o.nodeId);
    if (this.remote.length) this.remoteSeenAt = Date.now();
    this.presenceKnown = true;
  }

  async refreshCounters(): Promise<void> {
    const b = this.bridge;
    if (this.localOnly) return;
    const keys = fileKeys(this.ref);
    this.deadLetters = Number(await b.commands.call("XLEN", [keys.dlq]));
    try {
      const summary = (await b.commands.call("XPENDING", [keys.stream, groupName(this.file.pattern === "QUEUE" ? "queue" : "broadcast", b.o.nodeId)])) as [number, ...unknown[]];
      this.pending = this.file.pattern === "QUEUE" ? 0 : Number(summary?.[0] ?? 0);
    } catch {
      /* no group yet */
    }
  }

  /** selectTransport for one attachment (existing or about to be created). */
  decide(att: { id: string; side: "PRODUCER" | "CONSUMER"; preference?: TransportPreference }): SelectionResult {
    const b = this.bridge;
    const self = b.o.host;
    const peers: AttachmentLocation[] = [
      ...[...this.local.values()].filter((a) => a.id !== att.id).map((a) => ({ attachmentId: a.id, side: lower(a.side), host: self })),
      ...this.remote,
    ];
    const p50 = this.net.p50();
    return selectTransport({
      file: {
        tenantId: this.ref.tenantId,
        fileId: this.ref.fileId,
        name: this.file.name,
        preference: att.preference ?? this.file.transportPreference,
        requirements: { maxLatencyUs: this.file.maxLatencyMicros ?? undefined, minThroughputPerSec: this.file.minThroughputMsgPerSec ?? undefined },
      },
      attachment: { attachmentId: att.id, side: lower(att.side), host: self },
      peers,
      measurements: { network: p50 !== undefined ? { latencyP50Us: p50 } : undefined },
      health: { redisReachable: b.redisUp, shmFreeBytes: b.shmFreeBytes(), shmRequiredBytes: 0 },
      previous: this.decision?.ok ? this.decision.transport : undefined,
    });
  }

  /** Re-decides the file-level decision; true when it changed. */
  redecide(): boolean {
    const first = [...this.local.values()][0];
    const d = this.decide(first ?? { id: `node:${this.bridge.o.nodeId}`, side: "CONSUMER" });
    const sig = (x: SelectionResult | null) => (x ? (x.ok ? `${x.transport}|${x.status}|${x.reasonCode}|${x.reason}` : `refused|${x.errorCode}|${x.reason}`) : "");
    const changed = sig(d) !== sig(this.decision);
    this.decision = d;
    if (changed) this.decidedAt = new Date();
    return changed;
  }

  report(): RouteReport {
    const d = this.decision ?? (this.redecide(), this.decision!);
    const stats = this.producer?.stats();
    const shm = this.shm.snapshot();
    const net = this.net.snapshot();
    const m = this.bridge.o.metrics;
    for (const [transport, t] of [["SHARED_MEMORY", shm], ["NETWORK", net]] as const) {
      m.routeRate.set({ file: this.file.id, transport, unit: "messages" }, t.messagesPerSec);
      m.routeRate.set({ file: this.file.id, transport, unit: "bytes" }, t.bytesPerSec);
      if (t.latencyP50Us !== null) m.routeLatencyUs.set({ file: this.file.id, transport, quantile: "0.5" }, t.latencyP50Us);
      if (t.latencyP99Us !== null) m.routeLatencyUs.set({ file: this.file.id, transport, quantile: "0.99" }, t.latencyP99Us);
    }
    return {
      sharedFileId: this.file.id,
      transport: d.ok ? d.transport : null,
      status: d.ok ? d.status : "refused",
      reasonCode: d.ok ? d.reasonCode : d.errorCode,
      reason: d.reason.slice(0, 1000),
      inputs: JSON.parse(JSON.stringify(d.inputs)) as Record<string, unknown>,
      colocatedPeers: d.ok ? d.colocatedPeers.slice(0, 1000) : [],
      remotePeers: d.ok ? d.remotePeers.slice(0, 1000) : [],
      degradedPeers: d.ok ? d.degradedPeers.slice(0, 1000) : [],
      warnings: (d.ok ? d.warnings : []).slice(0, 20).map((w) => w.slice(0, 500)),
      decidedAt: this.decidedAt.toISOString(),
      stats: {
        sharedMemory: shm,
        network: net,
        streamLagMs: this.streamLagMs,
        pendingFrames: this.pending,
        deadLetters: this.deadLetters,
        backlog: stats?.backlogRecords ?? 0,
      },
    };
  }

  /** Everything read from the ring is confirmed by Redis (or needed no forwarding). */
  get caughtUp(): boolean {
    return this.readerCaughtUp && this.pendingForward.length === 0 && this.backlog() === 0;
  }

  backlog(): number {
    return this.producer?.stats().backlogRecords ?? 0;
  }

  /** Stops forwarding and applying; the producer gets `graceMs` to flush its backlog. */
  async close(graceMs: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.varTimer) clearInterval(this.varTimer);
    this.pollVariablesFinal();
    await this.streamLoop?.catch(() => undefined);
    await Promise.allSettled([this.producer?.close(graceMs), this.queue ? this.syncQueueConsumer() : this.consumer?.close(graceMs)]);
    this.advanceConfirmed();
    try {
      this.persist();
    } catch {
      /* state dir gone */
    }
    this.journal.close();
    this.mapping.close();
    this.outbox?.close();
  }

  private pollVariablesFinal(): void {
    if (this.file.kind !== "VARIABLES") return;
    this.closed = false;
    this.pollVariables();
    this.closed = true;
  }
}

/** Generation of the mapping at `p` (a re-created file has a new one), or null when absent. */
function mappingGeneration(p: string): string | null {
  if (!existsSync(p)) return null;
  const m = SharedFile.open(p, { readOnly: true });
  try {
    return m.generation;
  } finally {
    m.close();
  }
}

function lower(side: "PRODUCER" | "CONSUMER"): "producer" | "consumer" {
  return side === "PRODUCER" ? "producer" : "consumer";
}

export interface RoutingBridgeEvents {
  /** A file's decision changed (attachment transports/reasons need updating). */
  decision: [fileId: string];
  /** Redis refused our credentials (user deleted, e.g. Redis restarted without an ACL file). */
  "auth-error": [];
}

export class RoutingBridge extends EventEmitter<RoutingBridgeEvents> {
  readonly target: RedisTarget;
  readonly commands: RedisClient;
  readonly producerClient: RedisClient;
  redisUp = false;
  private readonly routes = new Map<string, FileRoute>();
  private timer: NodeJS.Timeout | null = null;
  private persistTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private lastShm = { at: 0, bytes: Number.MAX_SAFE_INTEGER };

  constructor(readonly o: BridgeOptions) {
    super();
    const r = o.redis;
    const tls = r.tlsCa ? { ca: r.tlsCa } : undefined;
    if (r.cluster) {
      const u = new URL(r.url);
      this.target = { cluster: [{ host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || 6379) }], tls: u.protocol === "rediss:" ? (tls ?? true) : undefined, username: r.username, password: r.password, connectionName: `commy-worker-${o.nodeId}` };
    } else {
      this.target = { url: r.url, tls, username: r.username, password: r.password, connectionName: `commy-worker-${o.nodeId}` };
    }
    this.commands = createRedisClient(this.target, "commands");
    this.producerClient = createRedisClient(this.target, "producer");
    for (const c of [this.commands, this.producerClient]) {
      c.on("error", (e: Error) => {
        if (/WRONGPASS|NOAUTH|NOPERM.*AUTH|invalid username-password/i.test(e.message)) this.emit("auth-error");
      });
    }
    this.commands.on("ready", () => this.setRedisUp(true));
    this.commands.on("close", () => this.setRedisUp(false));
  }

  get size(): number {
    return this.routes.size;
  }

  /** Connects (retrying in the background when Redis is down) and starts the presence loop. */
  async start(): Promise<void> {
    const connect = async (c: RedisClient) => {
      for (let delay = 200; !this.closed; delay = Math.min(delay * 2, 2000)) {
        try {
          await connectClient(c);
          return;
        } catch (e) {
          this.o.log.warn({ err: (e as Error).message }, "Redis unreachable; routing keeps trying (local traffic is unaffected)");
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    };
    void connect(this.commands).then(() => this.setRedisUp(this.commands.status === "ready"));
    void connect(this.producerClient);
    this.timer = setInterval(() => void this.tick(), PRESENCE_INTERVAL_MS);
    this.persistTimer = setInterval(() => {
      for (const r of this.routes.values()) {
        r.advanceConfirmed();
        try {
          r.persistIfDirty();
        } catch (e) {
          this.o.log.warn({ err: (e as Error).message }, "cannot persist routing state");
        }
      }
    }, PERSIST_INTERVAL_MS);
    this.resumeFromSidecars();
  }

  private setRedisUp(up: boolean): void {
    if (this.redisUp === up) return;
    this.redisUp = up;
    this.o.metrics.redisUp.set(up ? 1 : 0);
    this.o.log.info({ up }, up ? "Redis reachable: routing resumes" : "Redis unreachable: local traffic continues, remote peers degraded");
    for (const r of this.routes.values()) if (r.redecide()) this.emit("decision", r.file.id);
  }

  shmFreeBytes(): number {
    const now = Date.now();
    if (now - this.lastShm.at > 5000) {
      try {
        const s = statfsSync(path.dirname(this.o.mappingPath("x")));
        this.lastShm = { at: now, bytes: Number(s.bavail) * Number(s.bsize) };
      } catch {
        this.lastShm = { at: now, bytes: Number.MAX_SAFE_INTEGER };
      }
    }
    return this.lastShm.bytes;
  }

  route(fileId: string): FileRoute | undefined {
    return this.routes.get(fileId);
  }

  /**
   * Called before OPEN decides: reads the file's presence (bounded wait) so the decision at open
   * already knows the peers. Failures leave the last known peers in place.
   */
  async prepareOpen(file: CatalogueFile): Promise<void> {
    const ref = { tenantId: this.o.tenantId, fileId: file.id };
    if (!this.redisUp) return;
    const r = this.routes.get(file.id);
    try {
      const entries = await Promise.race([readPresence(this.commands, ref), new Promise<null>((res) => setTimeout(() => res(null), 1000))]);
      if (!entries) return;
      const peers = presencePeers(entries, this.o.nodeId);
      if (r) {
        r.remote = peers;
        if (peers.length) r.remoteSeenAt = Date.now();
      }
      else this.probe.set(file.id, peers);
    } catch {
      /* Redis trouble: decide with what we know */
    }
  }

  /** Remote peers read by prepareOpen for files without a route yet. */
  private readonly probe = new Map<string, AttachmentLocation[]>();

  /** The decision for a new attachment (before it exists). */
  decideForOpen(file: CatalogueFile, att: LocalAttachment): SelectionResult {
    const r = this.routes.get(file.id);
    if (r) return r.decide(att);
    const remote = this.probe.get(file.id) ?? [];
    return selectTransport({
      file: { tenantId: this.o.tenantId, fileId: file.id, name: file.name, preference: att.preference, requirements: { maxLatencyUs: file.maxLatencyMicros ?? undefined, minThroughputPerSec: file.minThroughputMsgPerSec ?? undefined } },
      attachment: { attachmentId: att.id, side: lower(att.side), host: this.o.host },
      peers: remote,
      measurements: {},
      health: { redisReachable: this.redisUp, shmFreeBytes: this.shmFreeBytes(), shmRequiredBytes: 0 },
    });
  }

  /** Registers a local attachment (creates and starts the file's route when needed). */
  attach(file: CatalogueFile, att: LocalAttachment): void {
    let r = this.routes.get(file.id);
    if (r && (r.closed || mappingGeneration(this.o.mappingPath(file.id)) !== r.generation)) {
      void r.close(2000);
      this.routes.delete(file.id);
      r = undefined;
    }
    if (!r) {
      r = new FileRoute(this, file);
      const probe = this.probe.get(file.id);
      if (probe?.length) {
        r.remote = probe;
        r.remoteSeenAt = Date.now();
      }
      this.probe.delete(file.id);
      this.routes.set(file.id, r);
      void r.start().catch((e: unknown) => this.o.log.error({ file: file.name, err: (e as Error).message }, "routing could not start for a file"));
    }
    r.file = file;
    r.local.set(att.id, att);
    r.redecide();
    void r.syncQueueConsumer();
    void this.publishNow(r);
  }

  /** Removes a local attachment; the route closes with the last one. */
  detach(fileId: string, attachmentId: string): void {
    const r = this.routes.get(fileId);
    if (!r || !r.local.delete(attachmentId)) return;
    if (r.local.size === 0) {
      this.routes.delete(fileId);
      void this.publishNow(r).finally(() => r.close(2000));
    } else {
      r.redecide();
      void r.syncQueueConsumer();
      void this.publishNow(r);
    }
  }

  /** Publishes a route's presence now (its consumer just became ready). */
  announce(r: FileRoute): Promise<void> {
    return this.publishNow(r);
  }

  private async publishNow(r: FileRoute): Promise<void> {
    if (!this.redisUp) return;
    try {
      await r.refreshPresence(true);
      r.redecide();
      this.emit("decision", r.file.id);
    } catch {
      /* next tick */
    }
  }

  /** Since when the producer connection is not ready while the commands connection is (0: it is). */
  private producerStuckSince = 0;

  /**
   * Forwarding needs the producer connection. If it stays not ready while the commands
   * connection to the same Redis is (a Cluster client can stay stuck connecting), it is told to
   * reconnect, and this is logged, every PRODUCER_STUCK_MS.
   */
  private checkProducerConnection(): void {
    if (this.producerClient.status === "ready" || this.commands.status !== "ready") {
      this.producerStuckSince = 0;
      return;
    }
    const now = Date.now();
    if (!this.producerStuckSince) this.producerStuckSince = now;
    else if (now - this.producerStuckSince >= PRODUCER_STUCK_MS) {
      this.o.log.warn({ status: this.producerClient.status, forMs: now - this.producerStuckSince }, "Redis producer connection not ready although Redis is reachable: reconnecting it");
      this.producerStuckSince = now;
      this.producerClient.disconnect(true);
    }
  }

  private async tick(): Promise<void> {
    this.checkProducerConnection();
    for (const r of [...this.routes.values()]) {
      if (r.closed) continue;
      if (this.redisUp) {
        try {
          await r.refreshPresence(r.local.size > 0);
          await r.refreshCounters();
        } catch (e) {
          this.o.log.debug({ file: r.file.name, err: (e as Error).message }, "presence refresh failed");
        }
      }
      // Every tick: the worker compares each attachment's decision and reports only changes.
      r.redecide();
      this.emit("decision", r.file.id);
      this.o.metrics.routeBacklog.set({ file: r.file.id }, r.backlog());
      this.o.metrics.routePending.set({ file: r.file.id }, r.pending);
      this.o.metrics.routeDeadLetters.set({ file: r.file.id }, r.deadLetters);
      if (r.streamLagMs !== null) this.o.metrics.routeLagMs.set({ file: r.file.id }, r.streamLagMs);
      const d = r.decision;
      for (const t of ["SHARED_MEMORY", "NETWORK", "HYBRID"] as const) this.o.metrics.routeTransport.set({ file: r.file.id, transport: t }, d?.ok && d.transport === t ? 1 : 0);
    }
  }

  /** Route reports of every routed file (resets the per-interval rates). */
  reports(): RouteReport[] {
    return [...this.routes.values()].filter((r) => !r.closed).map((r) => r.report());
  }

  /**
   * After a restart: files whose sidecar shows local writes not yet forwarded get a route again
   * (no attachments; it closes once caught up), so nothing written before a crash is lost.
   */
  private resumeFromSidecars(): void {
    const dir = path.join(this.o.stateDir, "routing", this.o.tenantId);
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir)) {
      if (!f.endsWith(".json")) continue;
      const fileId = f.slice(0, -5);
      this.pendingResume.add(fileId);
    }
  }

  /** File ids with a sidecar, to resume when the catalogue knows them (see resumeFiles). */
  private readonly pendingResume = new Set<string>();

  /** Resumes routes of files with unforwarded writes; called with the catalogue. */
  resumeFiles(files: CatalogueFile[]): void {
    for (const file of files) {
      if (!this.pendingResume.delete(file.id) || this.routes.has(file.id)) continue;
      if (file.kind !== "STREAM" || !existsSync(this.o.mappingPath(file.id))) continue;
      try {
        const side = JSON.parse(readFileSync(path.join(this.o.stateDir, "routing", this.o.tenantId, `${file.id}.json`), "utf8")) as Sidecar;
        const m = SharedFile.open(this.o.mappingPath(file.id), { readOnly: true });
        // The ring the producers write: the outbox (queue, NETWORK_ONLY) or the main one.
        const outbox = side.forwardRing === "outbox" && existsSync(this.o.outboxPath(file.id)) ? SharedFile.open(this.o.outboxPath(file.id), { readOnly: true }) : null;
        const head = (outbox ?? m).stream.head;
        // A queue copies outbox messages to this node when no peer is left: resumed regardless.
        const behind = m.generation === side.generation && side.forwardPos < head && (outbox !== null || side.peers.length > 0 || Date.now() - (side.remoteSeenAt ?? 0) < FORWARD_LINGER_MS);
        outbox?.close();
        m.close();
        if (!behind) continue;
        const r = new FileRoute(this, file);
        this.routes.set(file.id, r);
        this.o.log.info({ file: file.name, from: side.forwardPos }, "resuming forwarding of writes made before the restart");
        void r.start();
        // Closed by the linger check once caught up and still without attachments.
        const check = setInterval(() => {
          r.advanceConfirmed();
          if (r.closed || r.local.size > 0) return clearInterval(check);
          if (r.caughtUp) {
            clearInterval(check);
            if (this.routes.get(file.id) === r && r.local.size === 0) {
              this.routes.delete(file.id);
              void r.close(2000);
            }
          }
        }, 500);
      } catch (e) {
        this.o.log.warn({ file: file.name, err: (e as Error).message }, "cannot resume routing state");
      }
    }
  }

  async close(graceMs = 3000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.persistTimer) clearInterval(this.persistTimer);
    const routes = [...this.routes.values()];
    this.routes.clear();
    await Promise.allSettled(routes.map(async (r) => {
      r.local.clear();
      if (this.redisUp) await Promise.race([r.refreshPresence(true), new Promise((res) => setTimeout(res, 500))]).catch(() => undefined);
      await r.close(graceMs);
    }));
    this.commands.disconnect();
    this.producerClient.disconnect();
  }
}
