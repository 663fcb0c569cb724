/**
 * A `RequestLike` (rest/direct.ts) over node's `IncomingMessage`, for the routes the app server
 * answers itself: what the handlers read (method, URL, headers, body text) comes straight from the
 * incoming message; the web `Request` (a `Headers` copy, the URL, a body stream, an abort signal)
 * is built only if a handler asks for it (`web()`: streaming routes, REST bodies).
 *
 * Header lookups give what `toWebRequest(req).headers.get(name)` gives, including the
 * `x-forwarded-*` values filled in as Next.js does (node-adapter.ts), so the client IP that the
 * audit log records and failed API-key attempts are rate-limited by is the same on both paths.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HeaderReader, RequestLike } from "~/server/rest/direct";
import { forwardedDefault, requestUrl, toWebRequest } from "./node-adapter";

/** `Request#text`'s decoding: UTF-8, invalid sequences replaced, a leading BOM dropped. */
const UTF8 = new TextDecoder("utf-8");

/** `Headers.get` over the raw headers: case-insensitive, repeated headers joined with ", ". */
class NodeHeaders implements HeaderReader {
  constructor(private readonly req: IncomingMessage) {}

  get(name: string): string | null {
    const key = name.toLowerCase();
    const raw = this.req.rawHeaders;
    let value: string | null = null;
    for (let i = 0; i < raw.length; i += 2) {
      const n = raw[i]!;
      if (n.length !== key.length || n.toLowerCase() !== key) continue;
      value = value === null ? raw[i + 1]! : `${value}, ${raw[i + 1]!}`;
    }
    if (value !== null || !key.startsWith("x-forwarded-")) return value;
    return forwardedDefault(this.req, key);
  }
}

export class NodeRequest implements RequestLike {
  readonly method: string;
  readonly headers: HeaderReader;
  private webRequest: Request | null = null;
  private bodyUsed = false;
  private onClose: (() => void) | null = null;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
  ) {
    this.method = req.method ?? "GET";
    this.headers = new NodeHeaders(req);
  }

  get url(): string {
    return requestUrl(this.req);
  }

  text(): Promise<string> {
    if (this.webRequest) return this.webRequest.text();
    if (this.bodyUsed) return Promise.reject(new TypeError("Body is unusable: Body has already been read"));
    this.bodyUsed = true;
    const req = this.req;
    if (req.readableEnded) return Promise.resolve("");
    return new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const onData = (chunk: Buffer) => chunks.push(chunk);
      const done = (err: Error | null) => {
        req.off("data", onData);
        req.off("end", onEnd);
        req.off("error", done);
        req.off("close", onClosed);
        if (err) reject(err);
        else resolve(chunks.length === 0 ? "" : UTF8.decode(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
      };
      const onEnd = () => done(null);
      // Closed before the end: the client went away half-way (a web body stream errors too).
      const onClosed = () => done(new Error("aborted"));
      req.on("data", onData);
      req.once("end", onEnd);
      req.once("error", done);
      req.once("close", onClosed);
    });
  }

  /**
   * The web `Request`, built once. Its signal aborts when the client goes away before the
   * response is complete (what Next.js does with `request.signal`), so long-running handlers
   * (streams) stop their work.
   */
  web(): Request {
    if (this.webRequest) return this.webRequest;
    if (this.bodyUsed) throw new TypeError("Body is unusable: Body has already been read");
    const abort = new AbortController();
    const res = this.res;
    this.onClose = () => {
      if (!res.writableFinished) abort.abort();
    };
    if (res.closed) this.onClose();
    else res.once("close", this.onClose);
    this.webRequest = toWebRequest(this.req, abort.signal);
    return this.webRequest;
  }

  /** Drops the close listener of `web()` once the response has been written. */
  dispose(): void {
    if (this.onClose) this.res.off("close", this.onClose);
    this.onClose = null;
  }
}
