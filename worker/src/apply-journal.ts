/**
 * The apply journal: what the worker applied from Redis, kept next to the mapping so that a
 * restarted worker never appends a message twice and never forgets one
 * (docs/spec/redis-routing.md 5.4 and 6.2).
 *
 * Why a journal: appending a remote message to the ring and recording "(origin, epoch, seq) is
 * applied" cannot be one atomic step. Recording after the append leaves a window where a SIGKILL
 * makes the restarted worker append the message again; recording before it leaves one where the
 * message is lost. The journal records both ends:
 *   1. INTENT (key, seq, ring head H read just before the append, payload) — before the append;
 *   2. the append itself (one tryAppend: it either commits or does nothing);
 *   3. APPLIED (key, seq, ring seq it got) — after the append.
 * On restart the journal is replayed into the dedupe window (and the set of ring seqs the worker
 * wrote). An INTENT without its APPLIED is decided from the ring itself (resolveIntent): the
 * append happened iff an entry in [H, head) holds the same bytes.
 *
 * Cost per record: one pwrite per entry (no rename, no fsync: like the state file, it has to
 * survive the death of the process, not of the machine), instead of rewriting the whole state
 * file. The state file (window snapshot, stamps, peers) is written at a bounded rate; after it is
 * in place the journal restarts empty under the next generation (compaction). Entries of another
 * generation are ignored, so the order "state file first, then reset" is crash-safe either way.
 *
 * File layout (little endian): header `CMYJ` u32 version=1 f64 generation; then entries
 * `u32 bodyLength, u32 crc32(body), body` where body = `u32 generation, u8 type, fields…`. Reading
 * stops at the first entry that is short, fails its CRC or has another generation.
 */
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { crc32 } from "node:zlib";
import type { Stream } from "../../native/lib/index";
import type { HlcStamp } from "../../routing";

const MAGIC = 0x4a594d43; // "CMYJ"
const VERSION = 1;
const HEADER = 16;
const T_INTENT = 1;
const T_APPLIED = 2;
const T_STAMP = 3;
const T_CANCEL = 4;

export type JournalEntry =
  | { type: "intent"; key: string; seq: number; head: number; payload: Uint8Array }
  /** ringSeq: where the message landed in the ring; -1 for a record without an append (variable, skipped). */
  | { type: "applied"; key: string; seq: number; ringSeq: number }
  /** A variable slot now holds the value with this stamp (applied remote write or stamped local one). */
  | { type: "stamp"; name: string; stamp: HlcStamp }
  /** Recovery decided that the intent for this record did not lead to an append. */
  | { type: "cancel"; key: string; seq: number };

/** Builds entries into one reused buffer; finish() frames them (length, CRC) for one pwrite. */
class Writer {
  private buf = Buffer.allocUnsafe(256);
  private n = 0;
  private starts: number[] = [];

  /** Starts an entry: room for length and CRC, then the body's generation and type. */
  entry(gen: number, type: number): this {
    this.starts.push(this.n);
    return this.u32(0).u32(0).u32(gen).u8(type);
  }

  /** Fills in every entry's length and CRC; returns the bytes and empties the writer. */
  finish(): Buffer {
    const buf = this.buf.subarray(0, this.n);
    for (let i = 0; i < this.starts.length; i++) {
      const s = this.starts[i]!;
      const e = i + 1 < this.starts.length ? this.starts[i + 1]! : this.n;
      const body = buf.subarray(s + 8, e);
      buf.writeUInt32LE(body.length, s);
      buf.writeUInt32LE(crc32(body), s + 4);
    }
    this.n = 0;
    this.starts = [];
    return buf;
  }

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(b, 0, 0, this.n);
    this.buf = b;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.n++] = v;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.n);
    this.n += 4;
    return this;
  }

  f64(v: number): this {
    this.room(8);
    this.buf.writeDoubleLE(v, this.n);
    this.n += 8;
    return this;
  }

  str(s: string): this {
    const len = Buffer.byteLength(s);
    this.u32(len);
    this.room(len);
    this.buf.write(s, this.n, "utf8");
    this.n += len;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.u32(b.byteLength);
    this.room(b.byteLength);
    this.buf.set(b, this.n);
    this.n += b.byteLength;
    return this;
  }
}

class Reader {
  constructor(
    private readonly b: Buffer,
    public at: number,
    private readonly end: number,
  ) {}

  private need(k: number): void {
    if (this.at + k > this.end) throw new RangeError("short entry");
  }

  u8(): number {
    this.need(1);
    return this.b[this.at++]!;
  }

  u32(): number {
    this.need(4);
    const v = this.b.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.b.readDoubleLE(this.at);
    this.at += 8;
    return v;
  }

  str(): string {
    const len = this.u32();
    this.need(len);
    const s = this.b.toString("utf8", this.at, this.at + len);
    this.at += len;
    return s;
  }

  bytes(): Uint8Array {
    const len = this.u32();
    this.need(len);
    const v = Uint8Array.prototype.slice.call(this.b, this.at, this.at + len);
    this.at += len;
    return v;
  }
}

/** The apply journal of one file (see the module comment). Not safe for two writers. */
export class ApplyJournal {
  private readonly fd: number;
  private pos = HEADER;
  private gen: number;
  private readonly w = new Writer();

  private constructor(
    readonly file: string,
    fd: number,
    gen: number,
    /** The entries of the current generation found at open, in write order. */
    readonly entries: JournalEntry[],
    end: number,
  ) {
    this.fd = fd;
    this.gen = gen;
    this.pos = end;
  }

  /**
   * Opens (or creates, mode 0600) the journal and reads the entries of generation `gen` (the one
   * the state file names). A journal of another generation is started over.
   */
  static open(file: string, gen: number): ApplyJournal {
    let data: Buffer | null = null;
    try {
      data = readFileSync(file);
    } catch {
      /* absent: a fresh journal */
    }
    const { entries, end } = data ? ApplyJournal.parse(data, gen) : { entries: [], end: -1 };
    const fd = openSync(file, data ? "r+" : "w+", 0o600);
    const j = new ApplyJournal(file, fd, gen, entries, Math.max(end, HEADER));
    if (end < 0) j.reset(gen);
    return j;
  }

  /** Entries of generation `gen` in `data`, and where they end (-1: no valid header of that generation). */
  static parse(data: Buffer, gen: number): { entries: JournalEntry[]; end: number } {
    if (data.length < HEADER || data.readUInt32LE(0) !== MAGIC || data.readUInt32LE(4) !== VERSION || data.readDoubleLE(8) !== gen) return { entries: [], end: -1 };
    const entries: JournalEntry[] = [];
    let at = HEADER;
    while (at + 8 <= data.length) {
      const len = data.readUInt32LE(at);
      const crc = data.readUInt32LE(at + 4);
      const start = at + 8;
      if (len < 5 || start + len > data.length) break;
      const body = data.subarray(start, start + len);
      if (crc32(body) !== crc) break;
      const r = new Reader(data, start, start + len);
      if (r.u32() !== (gen >>> 0)) break;
      try {
        const type = r.u8();
        if (type === T_INTENT) entries.push({ type: "intent", key: r.str(), seq: r.f64(), head: r.f64(), payload: r.bytes() });
        else if (type === T_APPLIED) entries.push({ type: "applied", key: r.str(), seq: r.f64(), ringSeq: r.f64() });
        else if (type === T_STAMP) entries.push({ type: "stamp", name: r.str(), stamp: { wallMs: r.f64(), counter: r.f64(), nodeId: r.str() } });
        else if (type === T_CANCEL) entries.push({ type: "cancel", key: r.str(), seq: r.f64() });
        else break;
      } catch {
        break;
      }
      at = start + len;
    }
    return { entries, end: at };
  }

  get generation(): number {
    return this.gen;
  }

  /** Bytes of entries written since the last reset (compaction trigger). */
  get size(): number {
    return this.pos - HEADER;
  }

  /** Before appending a remote message: its identity, the ring head now, its bytes. */
  intent(key: string, seq: number, head: number, payload: Uint8Array): void {
    this.w.entry(this.gen, T_INTENT).str(key).f64(seq).f64(head).bytes(payload);
    this.flush();
  }

  /** After applying a record (ringSeq: where the message landed, -1 for none). */
  applied(key: string, seq: number, ringSeq: number): void {
    this.w.entry(this.gen, T_APPLIED).str(key).f64(seq).f64(ringSeq);
    this.flush();
  }

  /** A variable slot now holds the value stamped `stamp`; with `applied`, both in one write. */
  stamp(name: string, stamp: HlcStamp, applied?: { key: string; seq: number }): void {
    this.w.entry(this.gen, T_STAMP).str(name).f64(stamp.wallMs).f64(stamp.counter).str(stamp.nodeId);
    if (applied) this.w.entry(this.gen, T_APPLIED).str(applied.key).f64(applied.seq).f64(-1);
    this.flush();
  }

  /**
   * Replays the entries read at open into `t` and records how an unfinished intent was decided
   * (APPLIED or CANCEL), so that a crash right after this recovery does not decide it again from
   * a ring that moved on meanwhile. See replayJournal.
   */
  recover(t: ReplayTarget): ReturnType<typeof replayJournal> {
    const r = replayJournal(this.entries, t);
    if (r?.resolution.appended) this.applied(r.intent.key, r.intent.seq, r.resolution.ringSeq);
    else if (r) {
      this.w.entry(this.gen, T_CANCEL).str(r.intent.key).f64(r.intent.seq);
      this.flush();
    }
    return r;
  }

  /**
   * Starts over empty under generation `gen`. Call only once a state snapshot that holds every
   * entry so far (and names `gen`) is in place.
   */
  reset(gen: number): void {
    this.gen = gen;
    const h = Buffer.alloc(HEADER);
    h.writeUInt32LE(MAGIC, 0);
    h.writeUInt32LE(VERSION, 4);
    h.writeDoubleLE(gen, 8);
    writeSync(this.fd, h, 0, HEADER, 0);
    this.pos = HEADER;
    // Keep the file from growing without bound after a burst; old bytes past pos are ignored anyway.
    try {
      ftruncateSync(this.fd, 1 << 20);
    } catch {
      /* best effort */
    }
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }

  /** One pwrite of the entries built so far, at the end of the journal. */
  private flush(): void {
    const buf = this.w.finish();
    const n = writeSync(this.fd, buf, 0, buf.length, this.pos);
    if (n !== buf.length) throw new Error(`apply journal: short write (${n} of ${buf.length} bytes)`);
    this.pos += buf.length;
  }
}

/** How an INTENT without its APPLIED was decided on restart. */
export type IntentResolution =
  /** An entry in [H, head) holds the same bytes: the append happened (at `ringSeq`). */
  | { appended: true; ringSeq: number }
  /** No such entry and the whole range was still in the ring: the append did not happen. */
  | { appended: false; lapped: false }
  /**
   * No such entry among those still readable, but the ring overwrote part of [H, head): treated
   * as not appended (the record is applied again when Redis delivers it again).
   */
  | { appended: false; lapped: true };

/** Decides whether the message of an unfinished intent reached the ring (see the module comment). */
export function resolveIntent(stream: Stream, intent: { head: number; payload: Uint8Array }): IntentResolution {
  const head = stream.head;
  if (head <= intent.head) return { appended: false, lapped: false };
  const oldest = Math.max(0, head - stream.capacity);
  const reader = stream.reader({ from: Math.max(intent.head, oldest), register: false });
  try {
    const p = Buffer.from(intent.payload.buffer, intent.payload.byteOffset, intent.payload.byteLength);
    for (let m = reader.next(); m && m.seq < head; m = reader.next()) {
      if (m.data.byteLength === p.length && p.equals(m.data)) return { appended: true, ringSeq: m.seq };
    }
    return { appended: false, lapped: intent.head < oldest || reader.lost > 0 };
  } finally {
    reader.close();
  }
}

/** Where a replayed journal goes. */
export interface ReplayTarget {
  markApplied(key: string, seq: number): void;
  /** A ring seq the worker appended itself (not to be forwarded back). */
  ownRingSeq(ringSeq: number): void;
  stamp(name: string, stamp: HlcStamp): void;
  /** The main ring, to decide an unfinished intent (null for a variables file). */
  stream: Stream | null;
}

/**
 * Replays journal entries (in order) into `t`. Only the last INTENT can be unfinished by a crash:
 * a live worker writes a new intent only after the previous one completed, or after its append
 * was refused or failed (tryAppend appends or does nothing), or after a recovery closed it with
 * APPLIED or CANCEL. That one is decided from the ring. Prefer ApplyJournal.recover, which also
 * records the decision.
 */
export function replayJournal(entries: readonly JournalEntry[], t: ReplayTarget): { intent: JournalEntry & { type: "intent" }; resolution: IntentResolution } | null {
  let open: (JournalEntry & { type: "intent" }) | null = null;
  for (const e of entries) {
    if (e.type === "intent") open = e;
    else if (e.type === "applied") {
      t.markApplied(e.key, e.seq);
      if (e.ringSeq >= 0) t.ownRingSeq(e.ringSeq);
      if (open && open.key === e.key && open.seq === e.seq) open = null;
    } else if (e.type === "cancel") {
      if (open && open.key === e.key && open.seq === e.seq) open = null;
    } else t.stamp(e.name, e.stamp);
  }
  if (!open || !t.stream) return null;
  const resolution = resolveIntent(t.stream, open);
  if (resolution.appended) {
    t.markApplied(open.key, open.seq);
    t.ownRingSeq(resolution.ringSeq);
  }
  return { intent: open, resolution };
}

/**
 * Appends one remote message with its intent and completion journaled around the append. Waits
 * for space (refuse policy) up to `maxWaitMs`; the intent is written again before every attempt
 * (a compaction may have run while waiting). Returns the ring seq. `afterAppend` is a test seam:
 * it runs between the append and the completion, where a crash is hardest to recover from.
 */
export async function appendJournaled(
  journal: ApplyJournal,
  stream: Stream,
  key: string,
  seq: number,
  payload: Uint8Array,
  opts: { maxWaitMs?: number; afterAppend?: (ringSeq: number) => void } = {},
): Promise<number> {
  const max = opts.maxWaitMs ?? 30_000;
  for (let waited = 0; ; waited += 100) {
    journal.intent(key, seq, stream.head, payload);
    const ringSeq = stream.tryAppend(payload);
    if (ringSeq >= 0) {
      opts.afterAppend?.(ringSeq);
      journal.applied(key, seq, ringSeq);
      return ringSeq;
    }
    if (waited >= max) throw new Error(`the local ring stayed full for ${Math.round(max / 1000)} s`);
    await stream.waitForSpace(1, { timeoutMs: 100 });
  }
}
