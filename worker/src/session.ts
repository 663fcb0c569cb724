/**
 * One client connection to the worker's Unix socket.
 *
 * A connection is either a control session (first frame HELLO) or a one-shot fd channel (first
 * frame FETCH_FD, see docs/spec/socket-protocol.md §4). Frames are handled one at a time in
 * arrival order, so replies keep request order and a client cannot make the worker run
 * unbounded work concurrently: while a frame is being handled the socket is paused.
 *
 * Every byte from the client is untrusted: framing errors end the connection with one ERROR
 * frame, body errors are answered and the connection continues, and no exception escapes into
 * the worker (each handler is wrapped).
 */
import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import type { z } from "zod";
import { BadBody, FrameDecoder, FrameError, MessageType, encodeFrame, messageTypeName, type Frame, type MessageTypeCode } from "../protocol/frame";
import {
  CloseSchema,
  FetchFdSchema,
  HelloSchema,
  LeaseSchema,
  OpenSchema,
  fieldErrors,
  type ErrorBody,
  type SocketErrorCode,
  type WorkerEvent,
} from "../protocol/messages";
import type { Logger } from "./logger";

/** A failure with a stable socket error code, answered to the client as ERROR. */
export class SocketError extends Error {
  constructor(
    readonly code: SocketErrorCode,
    message: string,
    readonly retryable = false,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "SocketError";
  }
}

/** What the session needs from the worker (keeps this module free of the worker's internals). */
export interface SessionHost {
  readonly maxBody: number;
  authenticate(session: Session, hello: z.infer<typeof HelloSchema>): Promise<Record<string, unknown>>;
  open(session: Session, req: z.infer<typeof OpenSchema>): Record<string, unknown> | Promise<Record<string, unknown>>;
  close(session: Session, attachmentId: string): void;
  lease(session: Session, req: z.infer<typeof LeaseSchema>): Record<string, unknown>;
  redeemTicket(ticket: string, socket: Socket, reply: (type: MessageTypeCode, body: unknown) => Buffer): void;
  sessionEnded(session: Session): void;
  countFrame(type: string): void;
  countProtocolError(code: string): void;
}

export class Session {
  readonly id = randomUUID();
  /** Set by HELLO. */
  authenticated = false;
  apiKey = "";
  apiKeyId: string | null = null;
  scopes: string[] = [];
  filePatterns: string[] = [];
  pid = 0;
  lastSeen = Date.now();
  readonly attachments = new Set<string>();
  readonly log: Logger;
  private readonly decoder: FrameDecoder;
  private queue: Frame[] = [];
  private busy = false;
  private ended = false;
  private kind: "unknown" | "control" | "fd" = "unknown";

  constructor(
    readonly socket: Socket,
    private readonly host: SessionHost,
    log: Logger,
  ) {
    this.log = log.child({ session: this.id });
    this.decoder = new FrameDecoder(host.maxBody);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (e) => this.log.debug({ err: e.message }, "client socket error"));
    socket.on("close", () => this.end());
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Sends an unsolicited event (requestId 0). */
  sendEvent(event: WorkerEvent): void {
    this.write(MessageType.EVENT, 0, event);
  }

  /** Tells the client why and closes the connection. */
  terminate(code: SocketErrorCode, message: string): void {
    if (this.ended) return;
    if (this.authenticated) this.sendEvent({ event: "session-closing", code, message });
    else this.write(MessageType.ERROR, 0, { code, message, retryable: false } satisfies ErrorBody);
    this.socket.end();
    // Do not wait for a client that never reads: destroy after a short linger.
    setTimeout(() => this.socket.destroy(), 500).unref();
  }

  private write(type: MessageTypeCode, requestId: number, body: unknown): void {
    if (this.ended || this.socket.destroyed) return;
    this.socket.write(encodeFrame(type, requestId, body));
  }

  private onData(chunk: Buffer): void {
    this.lastSeen = Date.now();
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (e) {
      this.fail(e as FrameError);
      return;
    }
    this.queue.push(...frames);
    void this.drain();
  }

  private fail(e: FrameError): void {
    const code: SocketErrorCode = e.code === "UNSUPPORTED_VERSION" ? "UNSUPPORTED_VERSION" : e.code === "FRAME_TOO_LARGE" ? "FRAME_TOO_LARGE" : "PROTOCOL_ERROR";
    this.host.countProtocolError(code);
    this.log.warn({ code, reason: e.message }, "malformed frame: closing the connection");
    this.write(MessageType.ERROR, e.requestId, { code, message: e.message, retryable: false } satisfies ErrorBody);
    this.queue = [];
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 500).unref();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.socket.pause();
    try {
      while (this.queue.length && !this.ended) {
        const frame = this.queue.shift()!;
        await this.handle(frame);
      }
    } finally {
      this.busy = false;
      if (!this.ended) this.socket.resume();
    }
    // A decoder error found after good frames surfaces on the next push; check it now.
    if (this.decoder.error && !this.ended) this.fail(this.decoder.error);
  }

  private async handle(frame: Frame): Promise<void> {
    const name = messageTypeName(frame.type) ?? "UNKNOWN";
    this.host.countFrame(name);
    try {
      if (frame.body instanceof BadBody) throw new SocketError("PROTOCOL_ERROR", frame.body.error.message);
      if (this.kind === "unknown") this.kind = frame.type === MessageType.FETCH_FD ? "fd" : "control";
      if (this.kind === "fd") {
        if (frame.type !== MessageType.FETCH_FD) throw new SocketError("PROTOCOL_ERROR", "an fd channel carries exactly one FETCH_FD");
        const { ticket } = parse(FetchFdSchema, frame.body);
        this.host.redeemTicket(ticket, this.socket, (type, body) => encodeFrame(type, frame.requestId, body));
        this.socket.end();
        return;
      }
      if (!this.authenticated) {
        if (frame.type !== MessageType.HELLO) throw new SocketError("NOT_AUTHENTICATED", "send HELLO with an API key first");
        const hello = parse(HelloSchema, frame.body);
        const welcome = await this.host.authenticate(this, hello);
        this.write(MessageType.WELCOME, frame.requestId, welcome);
        return;
      }
      switch (frame.type) {
        case MessageType.OPEN:
          this.write(MessageType.OPENED, frame.requestId, await this.host.open(this, parse(OpenSchema, frame.body)));
          return;
        case MessageType.CLOSE: {
          const { attachmentId } = parse(CloseSchema, frame.body);
          this.host.close(this, attachmentId);
          this.write(MessageType.CLOSED, frame.requestId, { attachmentId });
          return;
        }
        case MessageType.LEASE:
          this.write(MessageType.LEASED, frame.requestId, this.host.lease(this, parse(LeaseSchema, frame.body)));
          return;
        case MessageType.HEARTBEAT:
          this.write(MessageType.HEARTBEAT_ACK, frame.requestId, { now: Date.now() });
          return;
        case MessageType.HELLO:
          throw new SocketError("NOT_AUTHENTICATED", "this session is already authenticated");
        default:
          throw new SocketError("PROTOCOL_ERROR", `${name} is not a client-to-worker message`);
      }
    } catch (e) {
      const err =
        e instanceof SocketError ? e : (this.log.error({ err: e, requestId: frame.requestId }, "request failed"), new SocketError("INTERNAL", `internal error in the worker (session ${this.id}, request ${frame.requestId})`, true));
      this.write(MessageType.ERROR, frame.requestId, { code: err.code, message: err.message, retryable: err.retryable, ...(err.details ? { details: err.details } : {}) } satisfies ErrorBody);
      // Failed authentication and fd channels end the connection; everything else continues.
      if (!this.authenticated || this.kind === "fd") {
        this.socket.end();
        setTimeout(() => this.socket.destroy(), 500).unref();
      }
    }
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue = [];
    this.host.sessionEnded(this);
  }
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) throw new SocketError("BAD_MESSAGE", "message body does not match its schema", false, { fields: fieldErrors(r.error) });
  return r.data;
}
