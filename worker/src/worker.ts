/**
 * The worker daemon: joins the control plane, keeps its tenant's catalogue and settings current,
 * serves client processes on a Unix socket, enforces policies, reports attachments, exposes
 * metrics. Lifecycle in state.ts; signals are handled only in worker/main.ts.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { nameMatchesPatterns } from "../../src/server/contracts/api-key";
import {
  WorkerSettingsSchema,
  type AttachmentReport,
  type AttachmentSide,
  type CatalogueFile,
  type CatalogueResponse,
  type FileExpiredReport,
  type SettingsResponse,
  type WorkerSettings,
} from "../../src/server/contracts/worker";
import { peerCredentials, sendWithFds } from "../../native/lib/fd-passing";
import { SharedFile } from "../../native/lib/index";
import { MessageType, type MessageTypeCode } from "../protocol/frame";
import type { Hello, Leased, Open, Opened, SocketErrorCode, Welcome } from "../protocol/messages";
import type { WorkerConfig } from "./config";
import { ControlPlaneClient, ControlPlaneError } from "./control-plane";
import { FileStore, FileStoreError } from "./file-store";
import type { Logger } from "./logger";
import { WorkerMetrics } from "./metrics";
import { ensureStateDir, hostCapabilities, identityPath, loadIdentity, saveIdentity, type StoredIdentity } from "./node-identity";
import { Session, SocketError } from "./session";
import { WorkerStateMachine } from "./state";
import { startHttpServer } from "./http-server";
import { RoutingBridge, producerUsesOutbox, type RoutingRedis } from "./routing-bridge";
import { RoutingConfigResponseSchema, type RouteReport, type Transport, type TransportPreference } from "../../src/server/contracts/worker";

export const WORKER_VERSION = "0.1.0";
const TICKET_TTL_MS = 10_000;

/** close() did not finish within the grace period (plus a small margin for teardown). */
export class WorkerCloseTimeoutError extends Error {
  constructor(readonly graceMs: number, readonly pendingStep: string) {
    super(`worker did not stop within ${graceMs} ms (stuck in: ${pendingStep})`);
    this.name = "WorkerCloseTimeoutError";
  }
}

/** Thrown by start() when the worker cannot come up (not joined, bad token, socket in use...). */
export class WorkerStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WorkerStartError";
  }
}

interface Attachment {
  id: string;
  /** Consumer group key (`<fileId>\0<group>`) when the attachment is a group member. */
  groupKey?: string;
  session: Session;
  file: CatalogueFile;
  path: string;
  side: AttachmentSide;
  readOnly: boolean;
  transport: Transport;
  reason: string;
  preference: TransportPreference;
  since: Date;
}

/**
 * A consumer group on one stream file of this node. The worker is the group's cursor: members
 * lease ranges of sequence numbers and read them from the mapping themselves. Ranges leased to a
 * member that leaves unacknowledged go back to the front of the queue (at-least-once).
 */
interface ConsumerGroup {
  mapping: SharedFile;
  capacity: number;
  next: number;
  requeued: [number, number][];
  leases: Map<string, [number, number][]>;
}

/** `ranges` minus `minus` (all half-open [from, to)). */
function subtractRanges(ranges: [number, number][], minus: [number, number][]): [number, number][] {
  let out = ranges;
  for (const [mf, mt] of minus) {
    const next: [number, number][] = [];
    for (const [f, t] of out) {
      if (mt <= f || mf >= t) next.push([f, t]);
      else {
        if (f < mf) next.push([f, mf]);
        if (mt < t) next.push([mt, t]);
      }
    }
    out = next;
  }
  return out;
}

interface KeyCacheEntry {
  result: { valid: true; apiKeyId: string; scopes: string[]; filePatterns: string[] } | { valid: false; code: SocketErrorCode; message: string };
  at: number;
}

/** Cached control-plane state, so a restart works while the control plane is down. */
interface CachedState {
  catalogue: CatalogueResponse | null;
  settings: SettingsResponse | null;
}

export class Worker extends EventEmitter<{ revoked: []; fatal: [Error] }> {
  readonly state = new WorkerStateMachine();
  readonly metrics = new WorkerMetrics();
  private readonly files: FileStore;
  private readonly cp: ControlPlaneClient;
  private identity: StoredIdentity | null = null;
  private settings: WorkerSettings = WorkerSettingsSchema.parse({});
  private settingsVersion = -1;
  private settingsEtag: string | null = null;
  private catalogue = new Map<string, CatalogueFile>();
  private catalogueEtag: string | null = null;
  private readonly sessions = new Set<Session>();
  private readonly attachments = new Map<string, Attachment>();
  private readonly tickets = new Map<string, { attachmentId: string; expires: number }>();
  private readonly keyCache = new Map<string, KeyCacheEntry>();
  private readonly groups = new Map<string, ConsumerGroup>();
  private server: net.Server | null = null;
  private http: { port: number; close(): Promise<void> } | null = null;
  private timers: NodeJS.Timeout[] = [];
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private reportDirty = false;
  private reportTimer: NodeJS.Timeout | null = null;
  private reporting: Promise<void> = Promise.resolve();
  /** Sorted attachment ids of the last successful report (null: nothing reported yet). */
  private lastReported: string | null = null;
  private closing: Promise<void> | null = null;
  private lastHeartbeatOk = 0;
  private routing: RoutingBridge | null = null;
  private routesTimer: NodeJS.Timeout | null = null;
  private routesSending = false;
  private routes404Logged = false;
  private lastRoutesEmpty = true;
  private routingRefetch: NodeJS.Timeout | null = null;

  constructor(
    readonly config: WorkerConfig,
    readonly log: Logger,
  ) {
    super();
    this.sessionHost.maxBody = config.maxFrameBody;
    this.files = new FileStore(path.join(config.stateDir, "files"));
    const ca = config.caFile ? readFileSync(config.caFile) : undefined;
    this.cp = new ControlPlaneClient({ baseUrl: config.controlPlaneUrl, ca, timeoutMs: config.requestTimeoutMs, metrics: this.metrics });
    this.metrics.setState("starting");
    this.state.on("change", (to, from, reason) => {
      this.metrics.setState(to);
      this.log.info({ from, to, reason }, `worker ${to}`);
    });
  }

  /** Port of the /metrics + /healthz listener (after start). */
  get httpPort(): number {
    return this.http?.port ?? 0;
  }

  get nodeId(): string {
    return this.identity?.nodeId ?? "";
  }

  get tenantId(): string {
    return this.identity?.tenantId ?? "";
  }

  // -------------------------------------------------------------------------------------------
  // start
  // -------------------------------------------------------------------------------------------

  async start(): Promise<void> {
    try {
      ensureStateDir(this.config.stateDir);
      this.identity = loadIdentity(this.config.stateDir);
      if (!this.identity) await this.join();
      this.cp.setCredential(this.identity!.credential);
      this.log.info({ nodeId: this.nodeId, tenantId: this.tenantId, name: this.identity!.name }, "node identity loaded");

      await this.syncFromControlPlane(true);
      await this.setupRouting();
      await this.heartbeat();
      await this.listen();
      this.http = await startHttpServer({
        host: this.config.httpHost,
        port: this.config.httpPort,
        metrics: this.metrics,
        state: this.state,
        extra: () => ({
          nodeId: this.nodeId,
          sessions: this.sessions.size,
          attachments: this.attachments.size,
          lastHeartbeatOk: this.lastHeartbeatOk ? new Date(this.lastHeartbeatOk).toISOString() : null,
          routing: this.routing ? { redisUp: this.routing.redisUp, routes: this.lastRouteReports } : null,
        }),
      });
      this.startLoops();
      this.startRoutesLoop();
      if (this.state.state === "starting") this.state.transition("running", "serving");
      this.scheduleReport();
    } catch (e) {
      const err = e instanceof WorkerStartError ? e : new WorkerStartError(`worker failed to start: ${(e as Error).message}`, { cause: e });
      this.log.error({ err: err.message }, "start failed");
      await this.teardown().catch(() => undefined);
      if (!this.state.terminal) this.state.transition("failed", err.message);
      throw err;
    }
  }

  private async join(): Promise<void> {
    if (!this.config.joinToken)
      throw new WorkerStartError(`this node has not joined yet (no ${identityPath(this.config.stateDir)}): pass --join-token (create one in the control plane: Nodes → Add node)`);
    const hostname = os.hostname();
    try {
      const res = await this.cp.join({
        token: this.config.joinToken,
        name: this.config.nodeName,
        hostname,
        version: WORKER_VERSION,
        labels: this.config.labels,
        capabilities: this.capabilities(),
      });
      this.identity = { ...res, controlPlaneUrl: this.config.controlPlaneUrl, joinedAt: new Date().toISOString() };
      saveIdentity(this.config.stateDir, this.identity);
      this.log.info({ nodeId: res.nodeId, name: res.name }, "joined the control plane; node credential stored");
    } catch (e) {
      throw new WorkerStartError(`joining failed: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Host facts, with the configured identity overrides (several "hosts" on one machine in tests). */
  private capabilities() {
    const c = hostCapabilities();
    return { ...c, bootId: this.config.bootId ?? c.bootId, ipcNamespace: this.config.ipcNamespace ?? c.ipcNamespace };
  }

  // -------------------------------------------------------------------------------------------
  // cross-node routing
  // -------------------------------------------------------------------------------------------

  private routingCachePath(): string {
    return path.join(this.config.stateDir, "routing.json");
  }

  /** Routing credentials from the control plane (cached, 0600, for restarts while it is down). */
  /** `retry`: nothing usable now, but asking again later may give credentials. */
  private async fetchRoutingConfig(): Promise<{ redis: RoutingRedis | null; retry: boolean }> {
    try {
      const r = await this.cp.routing();
      writeFileSync(this.routingCachePath(), JSON.stringify(r), { mode: 0o600 });
      return { redis: r.redis, retry: false };
    } catch (e) {
      if (e instanceof ControlPlaneError && e.nodeRejected) throw e;
      if (e instanceof ControlPlaneError && e.status === 404) {
        this.log.info("the control plane has no routing endpoint: serving co-located clients only");
        return { redis: null, retry: false };
      }
      try {
        const cached = RoutingConfigResponseSchema.parse(JSON.parse(readFileSync(this.routingCachePath(), "utf8")));
        this.log.warn({ err: (e as Error).message }, "routing configuration unavailable: using the cached credentials");
        return { redis: cached.redis, retry: false };
      } catch {
        this.log.warn({ err: (e as Error).message }, "routing configuration unavailable and none cached: co-located clients only until it is");
        return { redis: null, retry: true };
      }
    }
  }

  private async setupRouting(): Promise<void> {
    if (this.config.routing === "off" || this.closing) return;
    const { redis, retry } = await this.fetchRoutingConfig();
    if (retry) {
      this.routingRefetch = setTimeout(() => {
        this.routingRefetch = null;
        void this.setupRouting().then(
          () => this.startRoutesLoop(),
          (e: unknown) => this.handleControlPlaneError("routing", e),
        );
      }, 3000);
      return;
    }
    if (!redis) return;
    const caps = this.capabilities();
    const bridge = new RoutingBridge({
      redis,
      tenantId: this.tenantId,
      nodeId: this.nodeId,
      host: { nodeId: this.nodeId, bootId: caps.bootId, ipcNamespace: caps.ipcNamespace },
      stateDir: this.config.stateDir,
      mappingPath: (fileId) => this.files.pathFor(this.tenantId, fileId),
      outboxPath: (fileId) => this.files.pathFor(this.tenantId, fileId, ".out"),
      ensureOutbox: (file) => {
        if (!this.files.exists(this.files.pathFor(this.tenantId, file.id, ".out"))) this.files.create(this.tenantId, file, false, ".out");
      },
      log: this.log,
      metrics: this.metrics,
    });
    bridge.on("decision", (fileId) => this.refreshTransports(fileId));
    bridge.on("auth-error", () => {
      // Redis forgot our user (restart without an ACL file): the control plane provisions it again.
      if (this.routingRefetch || this.closing) return;
      this.routingRefetch = setTimeout(() => {
        this.routingRefetch = null;
        void this.cp.routing().catch((e: unknown) => this.log.warn({ err: (e as Error).message }, "cannot refresh routing credentials"));
      }, 1000);
    });
    this.routing = bridge;
    await bridge.start();
    bridge.resumeFiles([...this.catalogue.values()]);
    // Attachments opened while the configuration was not there yet (the control plane was slow
    // or down at start-up) are routed now, as if they had just opened: their decisions are
    // re-made and their clients told.
    for (const a of this.attachments.values()) {
      if (a.side === "PRODUCER" && producerUsesOutbox(a.file) && a.path !== this.files.pathFor(this.tenantId, a.file.id, ".out")) {
        // Its client writes the shared ring, not the outbox the worker forwards from.
        this.log.warn({ file: a.file.name, attachment: a.id }, "producer opened before routing was configured: its messages stay on this host until it reopens");
      }
      this.routeAttachment(bridge, a);
    }
    this.log.info({ redis: redis.url, cluster: redis.cluster, user: redis.username }, "cross-node routing enabled");
  }

  /** Hands a local attachment to the bridge; the attachment works locally whatever happens here. */
  private routeAttachment(bridge: RoutingBridge, a: Attachment): void {
    try {
      bridge.attach(a.file, { id: a.id, side: a.side, preference: a.preference });
    } catch (e) {
      // The file is just not bridged (logged, visible as no route).
      this.log.error({ file: a.file.name, err: (e as Error).message }, "cannot route this file to other hosts");
    }
  }

  /** Re-decides the transport of the file's attachments after peers or health changed. */
  private refreshTransports(fileId: string): void {
    const r = this.routing?.route(fileId);
    if (!r) return;
    let changed = false;
    for (const a of this.attachments.values()) {
      if (a.file.id !== fileId) continue;
      const d = r.decide({ id: a.id, side: a.side, preference: a.preference });
      const transport = d.ok ? d.transport : a.transport;
      const reason = d.reason.slice(0, 500);
      if (transport !== a.transport || reason !== a.reason) {
        a.transport = transport;
        a.reason = reason;
        changed = true;
      }
    }
    if (changed) this.scheduleReport();
  }

  /** PUT /api/worker/routes about once a second while routes exist (or to clear them once). */
  private lastRouteReports: RouteReport[] = [];

  /** Route reports about once a second (PUT /api/worker/routes, /healthz, /metrics). */
  private startRoutesLoop(): void {
    if (!this.routing || this.routesTimer) return;
    this.routesTimer = setInterval(() => {
      this.lastRouteReports = this.routing?.reports() ?? [];
      void this.flushRoutesWith(this.lastRouteReports);
    }, 1000);
  }

  private async flushRoutesWith(routes: RouteReport[]): Promise<void> {
    if (!this.routing || this.routesSending || !this.identity) return;
    if (!routes.length && this.lastRoutesEmpty) return;
    this.routesSending = true;
    try {
      await this.cp.syncRoutes(routes);
      this.lastRoutesEmpty = routes.length === 0;
    } catch (e) {
      if (e instanceof ControlPlaneError && e.status === 404) {
        if (!this.routes404Logged) this.log.debug("the control plane does not accept route reports yet (404); routing keeps working");
        this.routes404Logged = true;
      } else if (e instanceof ControlPlaneError && e.nodeRejected) this.handleControlPlaneError("routes", e);
      else this.log.debug({ err: (e as Error).message }, "route report failed");
    } finally {
      this.routesSending = false;
    }
  }

  private async listen(): Promise<void> {
    const sock = this.config.socketPath;
    mkdirSync(path.dirname(sock), { recursive: true });
    if (existsSync(sock)) {
      // A socket file left by a crashed worker: remove it only if nobody answers on it.
      const alive = await new Promise<boolean>((resolve) => {
        const c = net.connect(sock);
        c.once("connect", () => (c.destroy(), resolve(true)));
        c.once("error", () => resolve(false));
      });
      if (alive) throw new WorkerStartError(`another worker is already listening on ${sock}`);
      unlinkSync(sock);
    }
    const server = net.createServer({ pauseOnConnect: false }, (socket) => this.accept(socket));
    server.maxConnections = 100_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(sock, () => resolve());
    });
    // Anyone on the host may connect: authentication is by API key, not file permission.
    chmodSync(sock, 0o666);
    this.server = server;
    this.log.info({ socket: sock }, "listening for client processes");
  }

  private accept(socket: net.Socket): void {
    if (this.state.state !== "running" && this.state.state !== "draining") {
      socket.destroy();
      return;
    }
    const session = new Session(socket, this.sessionHost, this.log);
    this.sessions.add(session);
    this.metrics.sessions.set(this.sessions.size);
  }

  // -------------------------------------------------------------------------------------------
  // loops: heartbeat, catalogue/settings sync, key re-verification, liveness, TTL
  // -------------------------------------------------------------------------------------------

  private startLoops(): void {
    this.restartHeartbeatLoop();
    const tick = () => {
      void this.syncTick().finally(() => {
        if (!this.closing) this.timers.push(setTimeout(tick, this.settings.cataloguePollMs));
      });
    };
    this.timers.push(setTimeout(tick, this.settings.cataloguePollMs));
  }

  private restartHeartbeatLoop(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => void this.heartbeat().catch(() => undefined), this.settings.heartbeatIntervalMs);
  }

  private async syncTick(): Promise<void> {
    try {
      await this.syncFromControlPlane(false);
    } catch (e) {
      this.handleControlPlaneError("sync", e);
    }
    await this.reverifyKeys();
    this.checkLiveness();
    this.expireMappings();
    this.sweepTickets();
    if (this.reportDirty) this.scheduleReport();
  }

  private async heartbeat(): Promise<void> {
    try {
      const res = await this.cp.heartbeat({
        state: this.state.state,
        version: WORKER_VERSION,
        settingsVersion: Math.max(0, this.settingsVersion),
        catalogueEtag: this.catalogueEtag,
        stats: { sessions: this.sessions.size, attachments: this.attachments.size, mappedBytes: 0 },
      });
      this.lastHeartbeatOk = Date.now();
      if (res.settingsVersion !== this.settingsVersion) await this.syncSettings().catch((e: unknown) => this.handleControlPlaneError("settings", e));
      if (res.nodeStatus === "DRAINING" && this.state.state === "running") {
        this.state.transition("draining", "the control plane drains this node: no new sessions or opens");
      } else if (res.nodeStatus === "ACTIVE" && this.state.state === "draining" && !this.closing) {
        this.state.transition("running", "drain lifted by the control plane");
      }
    } catch (e) {
      this.metrics.heartbeatFailures.inc();
      this.handleControlPlaneError("heartbeat", e);
      if (this.state.state === "starting" && e instanceof ControlPlaneError && !e.transient) throw e;
    }
  }

  private handleControlPlaneError(what: string, e: unknown): void {
    if (e instanceof ControlPlaneError && e.nodeRejected) {
      void this.onRevoked(e);
      return;
    }
    this.log.warn({ what, err: (e as Error).message }, "control plane unreachable; acting on the last catalogue");
  }

  private revokedHandled = false;
  private async onRevoked(e: ControlPlaneError): Promise<void> {
    if (this.revokedHandled) return;
    this.revokedHandled = true;
    this.log.error(
      { code: e.code },
      "NODE REVOKED: the control plane no longer accepts this node's credential; stopping service. Join again with a new token to serve from this host.",
    );
    // Keep the old identity for forensics but make a restart ask for a new join token.
    try {
      renameSync(identityPath(this.config.stateDir), `${identityPath(this.config.stateDir)}.revoked`);
    } catch {
      /* already gone */
    }
    for (const s of [...this.sessions]) s.terminate("NODE_REVOKED", "this node was revoked by the control plane");
    this.emit("revoked");
  }

  /** Fetches catalogue and settings (conditional requests); on first start falls back to the cache. */
  private async syncFromControlPlane(initial: boolean): Promise<void> {
    try {
      await this.syncSettings();
      const cat = await this.cp.catalogue(this.catalogueEtag);
      if (cat) this.applyCatalogue(cat);
      this.saveCache();
    } catch (e) {
      if (!initial || !(e instanceof ControlPlaneError) || !e.transient) throw e;
      const cache = this.loadCache();
      if (!cache.catalogue) throw new WorkerStartError(`control plane unreachable and no cached catalogue: ${e.message}`);
      this.log.warn({ err: e.message }, "control plane unreachable at start: using the cached catalogue and settings");
      if (cache.settings) this.applySettings(cache.settings);
      this.applyCatalogue(cache.catalogue);
    }
  }

  private async syncSettings(): Promise<void> {
    const s = await this.cp.settings(this.settingsEtag);
    if (s) {
      this.settingsEtag = `"s${s.version}"`;
      this.applySettings(s);
    }
  }

  private applySettings(s: SettingsResponse): void {
    if (s.version === this.settingsVersion) return;
    const before = this.settings;
    this.settings = s.settings;
    this.settingsVersion = s.version;
    this.metrics.settingsVersion.set(s.version);
    this.log.level = s.settings.logLevel;
    if (this.heartbeatTimer && before.heartbeatIntervalMs !== s.settings.heartbeatIntervalMs) this.restartHeartbeatLoop();
    this.log.info({ version: s.version, settings: s.settings }, "worker settings applied");
  }

  private applyCatalogue(cat: CatalogueResponse): void {
    this.catalogueEtag = cat.etag;
    const next = new Map(cat.files.map((f) => [f.name, f]));
    this.catalogue = next;
    this.routing?.resumeFiles(cat.files);
    this.metrics.catalogueFiles.set(next.size);
    // Attachments whose file disappeared or is no longer active are closed.
    for (const a of [...this.attachments.values()]) {
      const f = [...next.values()].find((x) => x.id === a.file.id);
      if (!f || f.status === "ARCHIVED") this.detach(a.id, "FILE_NOT_FOUND", `shared file "${a.file.name}" was removed from the catalogue`);
      else if (f.status === "EXPIRED") this.detach(a.id, "FILE_EXPIRED", `shared file "${a.file.name}" expired`);
      else a.file = f;
    }
  }

  private cachePath(): string {
    return path.join(this.config.stateDir, "cache.json");
  }

  private saveCache(): void {
    const cache: CachedState = { catalogue: { etag: this.catalogueEtag ?? "", files: [...this.catalogue.values()] }, settings: { version: Math.max(0, this.settingsVersion), settings: this.settings } };
    try {
      writeFileSync(this.cachePath(), JSON.stringify(cache), { mode: 0o600 });
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, "cannot write the catalogue cache");
    }
  }

  private loadCache(): CachedState {
    try {
      return JSON.parse(readFileSync(this.cachePath(), "utf8")) as CachedState;
    } catch {
      return { catalogue: null, settings: null };
    }
  }

  // -------------------------------------------------------------------------------------------
  // API keys
  // -------------------------------------------------------------------------------------------

  private async verifyKey(apiKey: string, fresh: boolean): Promise<KeyCacheEntry["result"]> {
    const cached = this.keyCache.get(apiKey);
    if (cached && !fresh && Date.now() - cached.at < this.settings.apiKeyCacheMs) return cached.result;
    try {
      const r = await this.cp.verifyKey(apiKey);
      const result: KeyCacheEntry["result"] = r.valid ? { valid: true, apiKeyId: r.apiKeyId, scopes: r.scopes, filePatterns: r.filePatterns } : { valid: false, code: r.code, message: r.message };
      this.keyCache.set(apiKey, { result, at: Date.now() });
      if (this.keyCache.size > 10_000) this.keyCache.delete(this.keyCache.keys().next().value!);
      return result;
    } catch (e) {
      if (e instanceof ControlPlaneError && e.nodeRejected) {
        this.handleControlPlaneError("verifyKey", e);
        throw new SocketError("NODE_REVOKED", "this node was revoked");
      }
      // Control plane down: a key verified before keeps working (the data path must survive a
      // control-plane outage); an unknown key cannot be admitted.
      if (cached) return cached.result;
      throw new SocketError("UNAVAILABLE", "the worker cannot reach the control plane to verify the API key; retry later", true);
    }
  }

  /** Re-checks every live session's key; revoked/expired keys lose their sessions and attachments. */
  private async reverifyKeys(): Promise<void> {
    const byKey = new Map<string, Session[]>();
    for (const s of this.sessions) if (s.authenticated) (byKey.get(s.apiKey) ?? byKey.set(s.apiKey, []).get(s.apiKey)!).push(s);
    for (const [key, sessions] of byKey) {
      let r: KeyCacheEntry["result"];
      try {
        r = await this.verifyKey(key, true);
      } catch {
        continue;
      }
      for (const s of sessions) {
        if (!r.valid) {
          s.log.warn({ code: r.code }, "API key no longer valid: closing the session and its attachments");
          for (const id of [...s.attachments]) this.detach(id, r.code, r.message);
          s.terminate(r.code, r.message);
          continue;
        }
        s.scopes = r.scopes;
        s.filePatterns = r.filePatterns;
        for (const id of [...s.attachments]) {
          const a = this.attachments.get(id);
          if (!a) continue;
          const denied = this.authorizationProblem(s, a.file, a.side);
          if (denied) this.detach(id, "FORBIDDEN", denied);
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // sessions (the SessionHost the sessions call)
  // -------------------------------------------------------------------------------------------

  private readonly sessionHost = {
    maxBody: 0,
    authenticate: (session: Session, hello: Hello) => this.authenticate(session, hello),
    open: (session: Session, req: Open) => this.open(session, req),
    close: (session: Session, attachmentId: string) => {
      if (!session.attachments.has(attachmentId)) throw new SocketError("NOT_ATTACHED", `no attachment ${attachmentId} in this session`);
      this.detach(attachmentId, "NOT_ATTACHED", "closed by the client");
    },
    lease: (session: Session, req: { attachmentId: string; max: number; ack: [number, number][] }) => this.lease(session, req),
    redeemTicket: (ticket: string, socket: net.Socket, reply: (type: MessageTypeCode, body: unknown) => Buffer) => this.redeemTicket(ticket, socket, reply),
    sessionEnded: (session: Session) => this.sessionEnded(session),
    countFrame: (type: string) => this.metrics.frames.inc({ type }),
    countProtocolError: (code: string) => this.metrics.protocolErrors.inc({ code }),
  };

  private async authenticate(session: Session, hello: Hello): Promise<Welcome> {
    if (this.state.state !== "running") throw new SocketError("DRAINING", `the worker is ${this.state.state}; connect to another worker or retry later`, true);
    if ([...this.sessions].filter((s) => s.authenticated).length >= this.settings.maxSessions) throw new SocketError("TOO_MANY_SESSIONS", "the worker has reached its session limit", true);
    const r = await this.verifyKey(hello.apiKey, false);
    if (!r.valid) throw new SocketError(r.code, r.message);
    session.authenticated = true;
    session.apiKey = hello.apiKey;
    session.apiKeyId = r.apiKeyId;
    session.scopes = r.scopes;
    session.filePatterns = r.filePatterns;
    // The pid used for liveness checks and shown on attachments comes from the kernel
    // (SO_PEERCRED); the one in HELLO is only a claim and is logged when it differs.
    let peer: { pid: number; uid: number } | null = null;
    try {
      const fd = (session.socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
      if (fd !== undefined && fd >= 0) peer = peerCredentials(fd);
    } catch {
      /* not available (non-Linux): fall back to the declared pid */
    }
    session.pid = peer?.pid ?? hello.pid;
    if (peer && peer.pid !== hello.pid) session.log.warn({ declared: hello.pid, actual: peer.pid }, "HELLO pid differs from the socket peer's pid; using the kernel's");
    session.log.info({ pid: session.pid, uid: peer?.uid, apiKeyId: r.apiKeyId, client: hello.client }, "client session authenticated");
    return {
      sessionId: session.id,
      nodeId: this.nodeId,
      tenantId: this.tenantId,
      workerVersion: WORKER_VERSION,
      heartbeatIntervalMs: this.settings.heartbeatIntervalMs,
      maxBody: this.config.maxFrameBody,
      scopes: r.scopes,
    };
  }

  /** Why `session` may not attach to `file` as `side`, or null when it may. */
  private authorizationProblem(session: Session, file: CatalogueFile, side: AttachmentSide): string | null {
    const canWrite = session.scopes.includes("data:write");
    const canRead = canWrite || session.scopes.includes("data:read");
    if (side === "PRODUCER" && !canWrite) return `the API key lacks scope data:write needed to produce to "${file.name}"`;
    if (!canRead) return `the API key lacks scope data:read needed to consume "${file.name}"`;
    const missing = file.requiredPermissions.filter((p) => !session.scopes.includes(p));
    if (missing.length) return `"${file.name}" requires the scope(s) ${missing.join(", ")}`;
    if (!nameMatchesPatterns(session.filePatterns, file.name)) return `the API key's name patterns do not cover "${file.name}"`;
    return null;
  }

  private liveAttachmentsOf(fileId: string): Attachment[] {
    return [...this.attachments.values()].filter((a) => a.file.id === fileId);
  }

  /**
   * OPEN. Synchronous on purpose: the existence check and the creation of the mapping happen in
   * one turn of the event loop, so two clients opening the same absent file cannot both create it.
   */
  private async open(session: Session, req: Open): Promise<Opened> {
    const started = process.hrtime.bigint();
    try {
      // Routing: learn the file's peers (presence in Redis) before deciding; bounded wait.
      const f = this.catalogue.get(req.name);
      if (this.routing && f) await this.routing.prepareOpen(f);
      const opened = this.openInner(session, req);
      this.metrics.opens.inc({ result: "ok" });
      return opened;
    } catch (e) {
      this.metrics.opens.inc({ result: e instanceof SocketError ? e.code : "INTERNAL" });
      throw e;
    } finally {
      this.metrics.openSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private openInner(session: Session, req: Open): Opened {
    if (this.state.state !== "running") throw new SocketError("DRAINING", `the worker is ${this.state.state}; no new attachments`, true);
    const file = this.catalogue.get(req.name);
    if (!file || file.status === "ARCHIVED") throw new SocketError("FILE_NOT_FOUND", `no shared file named "${req.name}" in this tenant`);
    if (file.status === "EXPIRED") throw new SocketError("FILE_EXPIRED", `shared file "${req.name}" has expired`);
    const denied = this.authorizationProblem(session, file, req.side);
    if (denied) throw new SocketError("FORBIDDEN", denied);
    if (req.group !== undefined && (file.kind !== "STREAM" || req.side !== "CONSUMER"))
      throw new SocketError("BAD_MESSAGE", "consumer groups are for the CONSUMER side of stream files", false, { fields: { group: ["only on a stream, as CONSUMER"] } });

    const preference = req.transport ?? file.transportPreference;
    const attachmentId = randomUUID();
    let transport: Transport = "SHARED_MEMORY";
    let reason: string;
    if (this.routing) {
      const d = this.routing.decideForOpen(file, { id: attachmentId, side: req.side, preference });
      if (!d.ok) throw new SocketError("TRANSPORT_UNAVAILABLE", d.reason, false, { reasonCode: d.errorCode });
      if (preference === "NETWORK_ONLY" && file.transportPreference !== "NETWORK_ONLY")
        throw new SocketError("TRANSPORT_UNAVAILABLE", `NETWORK_ONLY must be the file's transport preference (set it on "${req.name}"), not one attachment's: every producer of the file must write through the network`);
      transport = d.transport;
      reason = d.reason.slice(0, 500);
    } else {
      if (preference === "NETWORK_ONLY")
        throw new SocketError("TRANSPORT_UNAVAILABLE", `"${req.name}" asks for NETWORK_ONLY, and this worker serves shared memory only (no network bridge configured)`);
      reason =
        preference === "PREFER_NETWORK"
          ? "shared memory: PREFER_NETWORK was asked, but the peer is on this host and no network bridge is configured, so the local mapping is used"
          : `shared memory: the client is on the worker's host (same boot id and IPC namespace), so a local mapping is fastest (preference ${preference})`;
    }

    if (session.attachments.size >= this.settings.maxAttachmentsPerSession)
      throw new SocketError("TOO_MANY_ATTACHMENTS", `a session may hold at most ${this.settings.maxAttachmentsPerSession} attachments`, true);
    const live = this.liveAttachmentsOf(file.id);
    if (file.maxConnections !== null && live.length >= file.maxConnections)
      throw new SocketError("MAX_CONNECTIONS", `"${file.name}" allows at most ${file.maxConnections} connections on this node`, true);

    const p = this.files.pathFor(this.tenantId, file.id);
    const exists = this.files.exists(p);
    const existence = req.existencePolicy ?? file.existencePolicy;
    const creation = req.creationPolicy ?? file.creationPolicy;
    if (exists && existence === "MUST_NOT_EXIST") throw new SocketError("FILE_EXISTS", `"${file.name}" already exists on this node (existence policy MUST_NOT_EXIST)`);
    if (!exists && (existence === "MUST_EXIST" || existence === "CONNECT_ONLY"))
      throw new SocketError("FILE_ABSENT", `"${file.name}" does not exist on this node yet (existence policy ${existence})`, true);
    if (exists && existence === "CONNECT_ONLY" && live.length === 0) throw new SocketError("NO_PEER", `nobody is attached to "${file.name}" (existence policy CONNECT_ONLY)`, true);
    let created = false;
    try {
      if (!exists) {
        if (creation === "NEVER_CREATE") throw new SocketError("FILE_ABSENT", `"${file.name}" does not exist on this node and its creation policy is NEVER_CREATE`, true);
        this.files.create(this.tenantId, file, false);
        created = true;
      } else if (creation === "CREATE" && live.length === 0 && !file.persistAfterDisconnect) {
        // Nobody is attached and the file does not persist: start from fresh contents.
        this.files.create(this.tenantId, file, true);
        created = true;
      }
    } catch (e) {
      if (e instanceof FileStoreError) throw new SocketError(e.code, e.message);
      throw e;
    }

    const canWrite = session.scopes.includes("data:write");
    const readOnly = !canWrite || (req.side === "CONSUMER" && file.directionality === "PRODUCER_TO_CONSUMER");
    // NETWORK_ONLY through the bridge: producers write their own mapping (the outbox), which only
    // the worker reads and forwards; consumers read the main one, filled from Redis.
    let attachPath = p;
    // Queue streams too: the worker decides per message whether it stays here or goes to the
    // shared group across nodes, so each message is consumed on exactly one node.
    if (this.routing && producerUsesOutbox(file) && req.side === "PRODUCER") {
      attachPath = this.files.pathFor(this.tenantId, file.id, ".out");
      try {
        if (!this.files.exists(attachPath)) this.files.create(this.tenantId, file, false, ".out");
      } catch (e) {
        if (e instanceof FileStoreError) throw new SocketError(e.code, e.message);
        throw e;
      }
    }
    const attachment: Attachment = { id: attachmentId, session, file, path: attachPath, side: req.side, readOnly, transport, reason, preference, since: new Date() };
    if (req.group !== undefined) attachment.groupKey = this.joinGroup(file, p, req.group);
    this.attachments.set(attachment.id, attachment);
    if (this.routing) this.routeAttachment(this.routing, attachment);
    session.attachments.add(attachment.id);
    this.updateAttachmentGauge();
    const ticket = randomBytes(16).toString("base64url");
    this.tickets.set(ticket, { attachmentId: attachment.id, expires: Date.now() + TICKET_TTL_MS });
    this.scheduleReport();
    session.log.info({ attachmentId: attachment.id, file: file.name, side: req.side, readOnly, created }, "attached");
    return {
      attachmentId: attachment.id,
      fileId: file.id,
      name: file.name,
      kind: file.kind,
      serialization: file.serialization,
      side: req.side,
      readOnly,
      transport,
      reason,
      created,
      revision: file.revision,
      group: req.group,
      fdTicket: ticket,
      layout: file.layout,
    };
  }

  /** Adds a member to a consumer group (creating the group at the stream's current head). */
  private joinGroup(file: CatalogueFile, p: string, group: string): string {
    const key = `${file.id}\0${group}`;
    if (!this.groups.has(key)) {
      // The worker maps the stream read-only to learn its head; it never reads messages.
      const mapping = SharedFile.open(p, { readOnly: true });
      const s = mapping.stream;
      this.groups.set(key, { mapping, capacity: s.capacity, next: s.head, requeued: [], leases: new Map() });
    }
    return key;
  }

  /** LEASE: acknowledges finished ranges and hands out up to `max` unread sequence numbers. */
  private lease(session: Session, req: { attachmentId: string; max: number; ack: [number, number][] }): Leased {
    const a = this.attachments.get(req.attachmentId);
    if (!a || a.session !== session) throw new SocketError("NOT_ATTACHED", `no attachment ${req.attachmentId} in this session`);
    const g = a.groupKey ? this.groups.get(a.groupKey) : undefined;
    if (!g) throw new SocketError("NOT_ATTACHED", "this attachment is not a consumer-group member (open with { group })");
    const mine = subtractRanges(g.leases.get(a.id) ?? [], req.ack);
    const head = g.mapping.stream.head;
    const oldest = Math.max(0, head - g.capacity);
    const ranges: [number, number][] = [];
    let budget = req.max;
    // Redeliveries first (ranges a departed member never acknowledged), skipping overwritten ones.
    while (budget > 0 && g.requeued.length) {
      const [f0, t] = g.requeued.shift()!;
      const f = Math.max(f0, oldest);
      if (f >= t) continue;
      const end = Math.min(t, f + budget);
      ranges.push([f, end]);
      if (end < t) g.requeued.unshift([end, t]);
      budget -= end - f;
    }
    if (g.next < oldest) g.next = oldest; // overwritten before anyone leased them: lost for the group
    if (budget > 0 && g.next < head) {
      const end = Math.min(head, g.next + budget);
      ranges.push([g.next, end]);
      g.next = end;
    }
    g.leases.set(a.id, [...mine, ...ranges]);
    return { ranges, head };
  }

  /** Removes a member; its unacknowledged ranges go back to the group. */
  private leaveGroup(a: Attachment): void {
    const g = a.groupKey ? this.groups.get(a.groupKey) : undefined;
    if (!g || !a.groupKey) return;
    const unacked = g.leases.get(a.id) ?? [];
    g.leases.delete(a.id);
    g.requeued.unshift(...unacked);
    const stillMembers = [...this.attachments.values()].some((x) => x.groupKey === a.groupKey);
    if (!stillMembers) {
      g.mapping.close();
      this.groups.delete(a.groupKey);
    }
  }

  private redeemTicket(ticket: string, socket: net.Socket, reply: (type: MessageTypeCode, body: unknown) => Buffer): void {
    const t = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    const a = t && t.expires > Date.now() ? this.attachments.get(t.attachmentId) : undefined;
    if (!a) throw new SocketError("FD_TICKET_INVALID", "unknown, used or expired fd ticket");
    const fd = this.files.openForClient(a.path, a.readOnly);
    try {
      const handle = (socket as unknown as { _handle?: { fd?: number } })._handle;
      if (handle?.fd === undefined || handle.fd < 0) throw new Error("socket has no descriptor");
      // Written directly on the socket's descriptor: nothing else is queued on this one-shot
      // connection, so the frame cannot interleave with libuv's own writes.
      sendWithFds(handle.fd, reply(MessageType.FD, { attachmentId: a.id, readOnly: a.readOnly }), [fd], 2000);
    } finally {
      this.files.closeFd(fd);
    }
  }

  private sessionEnded(session: Session): void {
    this.sessions.delete(session);
    this.metrics.sessions.set(this.sessions.size);
    for (const id of [...session.attachments]) this.detach(id, "NOT_ATTACHED", "client session ended");
    session.log.info({ pid: session.pid }, "client session ended");
  }

  /** Removes an attachment, tells the client (unless it asked), and applies the file's cleanup policy. */
  private detach(attachmentId: string, code: SocketErrorCode, message: string): void {
    const a = this.attachments.get(attachmentId);
    if (!a) return;
    this.attachments.delete(attachmentId);
    a.session.attachments.delete(attachmentId);
    this.leaveGroup(a);
    this.routing?.detach(a.file.id, attachmentId);
    if (message !== "closed by the client" && message !== "client session ended") a.session.sendEvent({ event: "attachment-closed", attachmentId, code, message });
    this.updateAttachmentGauge();
    this.scheduleReport();
    if (this.liveAttachmentsOf(a.file.id).length === 0 && !a.file.persistAfterDisconnect && a.file.autoCleanup) {
      try {
        this.files.remove(this.files.pathFor(this.tenantId, a.file.id));
        this.files.remove(this.files.pathFor(this.tenantId, a.file.id, ".out"));
        this.log.debug({ file: a.file.name }, "last attachment gone: mapping removed (autoCleanup)");
      } catch (e) {
        this.log.warn({ err: (e as Error).message, file: a.file.name }, "cannot remove mapping");
      }
    }
  }

  private updateAttachmentGauge(): void {
    let p = 0;
    for (const a of this.attachments.values()) if (a.side === "PRODUCER") p++;
    this.metrics.attachments.set({ side: "PRODUCER" }, p);
    this.metrics.attachments.set({ side: "CONSUMER" }, this.attachments.size - p);
  }

  /** Sessions whose process is gone (or that went silent for 3 heartbeat intervals) are ended. */
  private checkLiveness(): void {
    const silentFor = 3 * this.settings.heartbeatIntervalMs;
    for (const s of [...this.sessions]) {
      if (!s.authenticated) {
        if (Date.now() - s.lastSeen > 10_000) s.socket.destroy();
        continue;
      }
      let dead = false;
      if (s.pid > 0) {
        try {
          process.kill(s.pid, 0);
        } catch (e) {
          dead = (e as NodeJS.ErrnoException).code === "ESRCH";
        }
      }
      if (dead || Date.now() - s.lastSeen > silentFor) {
        s.log.warn({ pid: s.pid, dead }, "client process gone or silent: removing its attachments");
        s.socket.destroy();
      }
    }
  }

  /** TTL: a mapping lives at most ttlSeconds after creation. */
  private expireMappings(): void {
    const seen = new Set<string>();
    for (const a of [...this.attachments.values()]) {
      if (!a.file.ttlSeconds || seen.has(a.file.id)) continue;
      seen.add(a.file.id);
      const created = this.files.createdAt(a.path);
      if (created !== null && Date.now() - created > a.file.ttlSeconds * 1000) {
        const closed = this.liveAttachmentsOf(a.file.id).map((x) => x.id);
        for (const id of closed) this.detach(id, "FILE_EXPIRED", `the mapping of "${a.file.name}" reached its TTL of ${a.file.ttlSeconds} s`);
        this.files.remove(a.path);
        this.expiredReports.push({ sharedFileId: a.file.id, ttlSeconds: a.file.ttlSeconds, mappingCreatedAt: new Date(created).toISOString(), closedAttachments: closed });
      }
    }
    // Files with a TTL and no attachment: remove expired mappings too.
    for (const f of this.catalogue.values()) {
      if (!f.ttlSeconds || seen.has(f.id)) continue;
      const p = this.files.pathFor(this.tenantId, f.id);
      const created = this.files.createdAt(p);
      if (created !== null && Date.now() - created > f.ttlSeconds * 1000) {
        this.files.remove(p);
        this.expiredReports.push({ sharedFileId: f.id, ttlSeconds: f.ttlSeconds, mappingCreatedAt: new Date(created).toISOString(), closedAttachments: [] });
      }
    }
    void this.flushExpiredReports();
  }

  /** Expiries not yet recorded by the control plane (kept and retried while it is unreachable). */
  private expiredReports: FileExpiredReport[] = [];
  private flushingExpired = false;

  private async flushExpiredReports(): Promise<void> {
    if (this.flushingExpired || !this.expiredReports.length || !this.identity) return;
    this.flushingExpired = true;
    try {
      while (this.expiredReports.length) {
        const r = this.expiredReports[0]!;
        try {
          await this.cp.reportExpired(r);
        } catch (e) {
          // 404: the file was deleted meanwhile, nothing to record; anything else: retried on the next tick.
          if (!(e instanceof ControlPlaneError && e.status === 404)) {
            this.log.debug({ file: r.sharedFileId, err: (e as Error).message }, "cannot report an expired mapping yet");
            return;
          }
        }
        this.expiredReports.shift();
      }
    } finally {
      this.flushingExpired = false;
    }
  }

  private sweepTickets(): void {
    const now = Date.now();
    for (const [t, v] of this.tickets) if (v.expires < now) this.tickets.delete(t);
  }

  // -------------------------------------------------------------------------------------------
  // attachment reports
  // -------------------------------------------------------------------------------------------

  private scheduleReport(): void {
    this.reportDirty = true;
    if (this.reportTimer) return;
    this.reportTimer = setTimeout(() => {
      this.reportTimer = null;
      void this.flushReport();
    }, 100);
  }

  /** Sends the full attachment set; at most one in flight, re-sent when it changed meanwhile. */
  flushReport(): Promise<void> {
    this.reporting = this.reporting.then(async () => {
      if (!this.reportDirty || !this.identity) return;
      this.reportDirty = false;
      const list: AttachmentReport[] = [...this.attachments.values()].map((a) => ({
        id: a.id,
        sharedFileId: a.file.id,
        pid: a.session.pid,
        side: a.side,
        transport: a.transport,
        reason: a.reason,
        apiKeyId: a.session.apiKeyId,
        since: a.since.toISOString(),
      }));
      // Attachments that came and went between two reports leave the set unchanged: skip the call.
      const signature = list
        .map((a) => `${a.id}:${a.transport}:${a.reason}`)
        .sort()
        .join(",");
      if (signature === this.lastReported) return;
      try {
        await this.cp.syncAttachments(list);
        this.lastReported = signature;
      } catch (e) {
        this.reportDirty = true;
        this.handleControlPlaneError("attachments", e);
      }
    });
    return this.reporting;
  }

  // -------------------------------------------------------------------------------------------
  // close
  // -------------------------------------------------------------------------------------------

  /**
   * Graceful stop. Idempotent (every call returns the same promise). Steps, each run even if an
   * earlier one failed: stop accepting; let clients finish for up to the grace period; tell the
   * rest and disconnect them; final attachment report; stop loops and listeners; flush the log.
   * Rejects with WorkerCloseTimeoutError when the whole sequence overruns the grace period by
   * more than a small margin, and with an AggregateError when steps failed.
   */
  close(reason = "shutdown requested", failed = false): Promise<void> {
    this.closing ??= this.runClose(reason, failed);
    return this.closing;
  }

  private async runClose(reason: string, failed: boolean): Promise<void> {
    const grace = this.config.shutdownGraceMs;
    let step = "draining";
    const errors: unknown[] = [];
    const run = async (name: string, fn: () => unknown) => {
      step = name;
      try {
        await fn();
      } catch (e) {
        errors.push(e);
        this.log.error({ step: name, err: (e as Error).message }, "close step failed");
      }
    };
    const sequence = (async () => {
      if (this.state.state === "running") this.state.transition("draining", reason);
      // net.Server.close() stops accepting at once; its callback would wait for every open
      // connection, which is the next step's job, so it is not awaited here.
      await run("stop accepting", () => void this.server?.close());
      await run("wait for clients", async () => {
        const until = Date.now() + grace;
        while (this.attachments.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      });
      await run("disconnect clients", () => {
        for (const s of [...this.sessions]) s.terminate("DRAINING", `the worker is stopping: ${reason}`);
        for (const s of [...this.sessions]) s.socket.destroy();
      });
      await run("final report", () => Promise.race([this.flushReport(), new Promise((r) => setTimeout(r, 2000))]));
      await run("teardown", () => this.teardown());
      await run("flush log", () => new Promise<void>((r) => this.log.flush(() => r())));
    })();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WorkerCloseTimeoutError(grace, step)), grace + 5000);
    });
    try {
      await Promise.race([sequence, timeout]);
    } catch (e) {
      errors.push(e);
    } finally {
      clearTimeout(timer);
    }
    if (!this.state.terminal) this.state.transition(failed || errors.length ? "failed" : "stopped", reason);
    const timedOut = errors.find((e) => e instanceof WorkerCloseTimeoutError);
    if (timedOut) throw timedOut;
    if (errors.length) throw new AggregateError(errors, `worker close: ${errors.length} step(s) failed`);
  }

  /** Stops timers and listeners; safe to call more than once and before start finished. */
  private async teardown(): Promise<void> {
    if (this.routesTimer) clearInterval(this.routesTimer);
    if (this.routingRefetch) clearTimeout(this.routingRefetch);
    const routing = this.routing;
    this.routing = null;
    await routing?.close(2000).catch((e: unknown) => this.log.warn({ err: (e as Error).message }, "routing close failed"));
    for (const g of this.groups.values()) g.mapping.close();
    this.groups.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.reportTimer) clearTimeout(this.reportTimer);
    const server = this.server;
    this.server = null;
    if (server?.listening) await new Promise<void>((r) => server.close(() => r()));
    try {
      if (existsSync(this.config.socketPath)) unlinkSync(this.config.socketPath);
    } catch {
      /* already gone */
    }
    const http = this.http;
    this.http = null;
    await http?.close();
    this.cp.close();
  }
}
