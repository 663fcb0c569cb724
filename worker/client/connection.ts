/**
 * The control connection to the local worker: HELLO, request/response matching by request id,
 * heartbeats, worker events, fd fetching, reconnection.
 */
import { EventEmitter } from "node:events";
import net from "node:net";
import { closeFd, connectUnix, recvWithFds, sendWithFds } from "../../native/lib/fd-passing";
import { FRAME_HEADER_SIZE, FrameDecoder, MessageType, encodeFrame, type Frame, type MessageTypeCode } from "../protocol/frame";
import { ErrorBodySchema, EventSchema, FdSchema, OpenedSchema, WelcomeSchema, type Open, type Opened, type Welcome, type WorkerEvent } from "../protocol/messages";
import { CommyClientError } from "./errors";

interface Pending {
  expect: MessageTypeCode;
  resolve(body: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export interface ConnectionOptions {
  socketPath: string;
  apiKey: string;
  requestTimeoutMs: number;
  clientName?: string;
}

/** One authenticated session with the worker. Emits "event" (worker events) and "closed". */
export class Connection extends EventEmitter<{ event: [WorkerEvent]; closed: [CommyClientError] }> {
  private socket: net.Socket | null = null;
  private decoder = new FrameDecoder();
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private heartbeat: NodeJS.Timeout | null = null;
  private ended = false;
  welcome!: Welcome;

  constructor(private readonly opts: ConnectionOptions) {
    super();
  }

  get isOpen(): boolean {
    return !this.ended && this.socket !== null && !this.socket.destroyed;
  }

  /** Connects and authenticates; rejects with WORKER_UNAVAILABLE or the worker's error code. */
  async start(): Promise<Welcome> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(this.opts.socketPath);
      s.once("connect", () => resolve(s));
      s.once("error", (e) => reject(new CommyClientError("WORKER_UNAVAILABLE", `cannot connect to the Commy worker at ${this.opts.socketPath}: ${e.message}`, true, undefined, { cause: e })));
    });
    this.socket = socket;
    socket.on("data", (c: Buffer) => this.onData(c));
    socket.on("error", () => undefined);
    socket.on("close", () => this.shutdown(new CommyClientError("CONNECTION_CLOSED", "the connection to the Commy worker closed (worker stopped or restarted)", true)));
    const body = await this.request(MessageType.HELLO, { protocol: 1, apiKey: this.opts.apiKey, pid: process.pid, client: this.opts.clientName ?? "commy-client-ts" }, MessageType.WELCOME);
    this.welcome = WelcomeSchema.parse(body);
    this.heartbeat = setInterval(() => {
      this.request(MessageType.HEARTBEAT, {}, MessageType.HEARTBEAT_ACK).catch(() => undefined);
    }, Math.max(500, Math.floor(this.welcome.heartbeatIntervalMs / 2)));
    this.heartbeat.unref();
    return this.welcome;
  }

  async open(req: Open): Promise<{ opened: Opened; fd: number }> {
    const opened = OpenedSchema.parse(await this.request(MessageType.OPEN, req, MessageType.OPENED));
    const fd = await this.fetchFd(opened.fdTicket);
    return { opened, fd };
  }

  async closeAttachment(attachmentId: string): Promise<void> {
    if (!this.isOpen) return;
    await this.request(MessageType.CLOSE, { attachmentId }, MessageType.CLOSED);
  }

  /** Redeems an fd ticket on a second, short connection (SCM_RIGHTS). */
  private async fetchFd(ticket: string): Promise<number> {
    let sock: number;
    try {
      sock = connectUnix(this.opts.socketPath);
    } catch (e) {
      throw new CommyClientError("WORKER_UNAVAILABLE", `cannot connect to fetch the mapping: ${(e as Error).message}`, true, undefined, { cause: e });
    }
    const fds: number[] = [];
    try {
      sendWithFds(sock, encodeFrame(MessageType.FETCH_FD, 1, { ticket }), [], this.opts.requestTimeoutMs);
      const decoder = new FrameDecoder();
      let frame: Frame | undefined;
      while (!frame) {
        const r = await recvWithFds(sock, { maxBytes: 64 * 1024, maxFds: 1, timeoutMs: this.opts.requestTimeoutMs });
        fds.push(...r.fds);
        if (r.data.length === 0) throw new CommyClientError("CONNECTION_CLOSED", "the worker closed the fd channel", true);
        frame = decoder.push(r.data)[0];
      }
      if (frame.type === MessageType.ERROR) throw toError(frame.body);
      FdSchema.parse(frame.body);
      if (fds.length !== 1) throw new CommyClientError("PROTOCOL_ERROR", `expected one descriptor with FD, got ${fds.length}`);
      return fds.pop()!;
    } catch (e) {
      if ((e as { code?: string }).code === "ETIMEDOUT") throw new CommyClientError("TIMEOUT", "the worker did not send the mapping in time", true);
      throw e;
    } finally {
      for (const fd of fds) closeFd(fd);
      closeFd(sock);
    }
  }

  request(type: MessageTypeCode, body: unknown, expect: MessageTypeCode): Promise<unknown> {
    if (this.ended || !this.socket) return Promise.reject(new CommyClientError("CONNECTION_CLOSED", "not connected to the Commy worker", true));
    const id = this.nextId;
    this.nextId = this.nextId >= 0xfffffff0 ? 1 : this.nextId + 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CommyClientError("TIMEOUT", `the worker did not answer within ${this.opts.requestTimeoutMs} ms`, true));
      }, this.opts.requestTimeoutMs);
      this.pending.set(id, { expect, resolve, reject, timer });
      this.socket!.write(encodeFrame(type, id, body));
    });
  }

  private onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      this.shutdown(new CommyClientError("PROTOCOL_ERROR", `the worker sent a malformed frame: ${(e as Error).message}`));
      return;
    }
    for (const f of frames) {
      if (f.requestId === 0) {
        if (f.type === MessageType.EVENT) {
          const ev = EventSchema.safeParse(f.body);
          if (ev.success) {
            // The worker says why it is about to close the session (revoked key, stopping...):
            // that reason, not a bare "connection closed", is what the application sees.
            if (ev.data.event === "session-closing") this.closeReason = new CommyClientError(ev.data.code, ev.data.message, ev.data.code === "DRAINING");
            this.emit("event", ev.data);
          }
        } else if (f.type === MessageType.ERROR) {
          // Connection-level error (e.g. malformed frame): the worker closes right after.
          this.closeReason = toError(f.body);
        }
        continue;
      }
      const p = this.pending.get(f.requestId);
      if (!p) continue;
      this.pending.delete(f.requestId);
      clearTimeout(p.timer);
      if (f.type === MessageType.ERROR) p.reject(toError(f.body));
      else if (f.type !== p.expect) p.reject(new CommyClientError("PROTOCOL_ERROR", `expected message 0x${p.expect.toString(16)}, got 0x${f.type.toString(16)}`));
      else p.resolve(f.body);
    }
  }

  private closeReason: CommyClientError | null = null;

  private shutdown(reason: CommyClientError): void {
    if (this.ended) return;
    this.ended = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    const why = this.closeReason ?? reason;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(why);
    }
    this.pending.clear();
    this.socket?.destroy();
    this.emit("closed", why);
  }

  /** Closes the connection (the worker detaches everything of this session). */
  close(): void {
    this.shutdown(new CommyClientError("CLOSED", "client closed"));
  }
}

function toError(body: unknown): CommyClientError {
  const e = ErrorBodySchema.safeParse(body);
  if (!e.success) return new CommyClientError("PROTOCOL_ERROR", "the worker sent an unreadable ERROR");
  return new CommyClientError(e.data.code, e.data.message, e.data.retryable, e.data.details);
}

export const _internal = { FRAME_HEADER_SIZE };
