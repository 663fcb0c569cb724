/**
 * The idempotence window: which (origin, epoch, seq) records a node has already applied.
 *
 * Per origin incarnation (origin node id + producer epoch) it keeps the highest applied seq
 * (`high`) and the seqs at or below `high` that have NOT been applied yet (`gaps`). Producers
 * number records contiguously and resend unconfirmed frames unchanged, so `gaps` is almost
 * always empty: it fills only when a resend lands after later frames, or when retention
 * trimmed records a consumer never saw. Both are bounded:
 *  - gaps older than `high - maxGapSpan` are forgotten (treated as applied: a record that
 *    late is a duplicate of a resend far in the past, or was trimmed);
 *  - at most `maxGaps` gaps per incarnation (oldest forgotten first);
 *  - at most `maxOrigins` incarnations, least recently seen evicted first (old producer
 *    epochs of restarted workers).
 * The snapshot is small, so it can be persisted with every commit.
 */

export interface DedupeOptions {
  maxOrigins?: number;
  maxGaps?: number;
  maxGapSpan?: number;
}

interface OriginState {
  high: number;
  gaps: Set<number>;
  seenAt: number;
}

/** Serializable form: [originKey, high, gaps[], seenAt][] */
export type DedupeSnapshot = [string, number, number[], number][];

export class DedupeWindow {
  private readonly origins = new Map<string, OriginState>();
  private readonly maxOrigins: number;
  private readonly maxGaps: number;
  private readonly maxGapSpan: number;
  private clock = 0;

  constructor(opts: DedupeOptions = {}, snapshot?: DedupeSnapshot) {
    this.maxOrigins = opts.maxOrigins ?? 1024;
    this.maxGaps = opts.maxGaps ?? 1024;
    this.maxGapSpan = opts.maxGapSpan ?? 1_000_000;
    for (const [key, high, gaps, seenAt] of snapshot ?? []) {
      this.origins.set(key, { high, gaps: new Set(gaps), seenAt });
      this.clock = Math.max(this.clock, seenAt);
    }
  }

  /** The window's key of one producer incarnation (compute once per frame, use with seenKey/markAppliedKey). */
  static key(origin: string, epoch: string): string {
    return `${origin}/${epoch}`;
  }

  /** True when this record was already applied (or is too old to tell: see class comment). */
  seen(origin: string, epoch: string, seq: number): boolean {
    return this.seenKey(DedupeWindow.key(origin, epoch), seq);
  }

  /** seen() with a precomputed key (DedupeWindow.key). */
  seenKey(key: string, seq: number): boolean {
    const st = this.origins.get(key);
    if (!st || seq > st.high) return false;
    if (seq <= st.high - this.maxGapSpan) return true;
    return !st.gaps.has(seq);
  }

  /** Records that this record was applied. */
  markApplied(origin: string, epoch: string, seq: number): void {
    this.markAppliedKey(DedupeWindow.key(origin, epoch), seq);
  }

  /** markApplied() with a precomputed key (DedupeWindow.key). */
  markAppliedKey(key: string, seq: number): void {
    let st = this.origins.get(key);
    if (!st) {
      // First record seen of an incarnation: nothing below it is expected (a consumer that
      // joined late, or retention trimmed the start), so it opens the window without gaps.
      st = { high: seq - 1, gaps: new Set(), seenAt: ++this.clock };
      this.origins.set(key, st);
      this.evictOrigins();
    }
    st.seenAt = ++this.clock;
    if (seq === st.high + 1 && st.gaps.size === 0) {
      st.high = seq; // the usual case: the next record of a contiguous run
      return;
    }
    if (seq > st.high) {
      const from = Math.max(st.high + 1, seq - this.maxGaps, seq - this.maxGapSpan + 1, 1);
      for (let s = from; s < seq; s++) st.gaps.add(s);
      st.high = seq;
    } else {
      st.gaps.delete(seq);
    }
    if (st.gaps.size) {
      const floor = st.high - this.maxGapSpan;
      for (const g of st.gaps) if (g <= floor) st.gaps.delete(g);
      if (st.gaps.size > this.maxGaps) {
        const sorted = [...st.gaps].sort((a, b) => a - b);
        for (const g of sorted.slice(0, sorted.length - this.maxGaps)) st.gaps.delete(g);
      }
    }
  }

  private evictOrigins(): void {
    if (this.origins.size <= this.maxOrigins) return;
    const byAge = [...this.origins.entries()].sort((a, b) => a[1].seenAt - b[1].seenAt);
    for (const [k] of byAge.slice(0, this.origins.size - this.maxOrigins)) this.origins.delete(k);
  }

  snapshot(): DedupeSnapshot {
    return [...this.origins.entries()].map(([k, st]) => [k, st.high, [...st.gaps], st.seenAt]);
  }

  get size(): number {
    return this.origins.size;
  }
}
