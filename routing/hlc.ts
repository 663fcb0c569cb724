/**
 * Hybrid logical clock (Kulkarni et al.) and last-writer-wins merging for variables.
 *
 * A stamp is (wallMs, counter, nodeId). Stamps are totally ordered: by wallMs, then counter,
 * then nodeId (byte order of the UTF-8 id). Two nodes that saw the same set of writes pick the
 * same winner, whatever the order the writes arrived in, so variables converge.
 *
 * Why an HLC rather than wall clocks: a node whose clock lags still produces stamps greater
 * than anything it has already received (receive() pushes the clock forward), so a write
 * made *after* seeing another write always wins over it (causality is respected), while
 * stamps stay close to real time for humans reading them.
 */
import { assertId } from "./keys";

export interface HlcStamp {
  /** Physical part: milliseconds since the epoch (max of local and seen clocks). */
  wallMs: number;
  /** Logical counter for events within the same wallMs. */
  counter: number;
  /** Tie breaker: the node that made the write. */
  nodeId: string;
}

/** Total order on stamps: negative when a < b, 0 when equal, positive when a > b. */
export function compareStamps(a: HlcStamp, b: HlcStamp): number {
  if (a.wallMs !== b.wallMs) return a.wallMs < b.wallMs ? -1 : 1;
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  if (a.nodeId === b.nodeId) return 0;
  return Buffer.compare(Buffer.from(a.nodeId), Buffer.from(b.nodeId));
}

/** `"<wallMs>.<counter>@<nodeId>"`, for logs and the UI. */
export function formatStamp(s: HlcStamp): string {
  return `${s.wallMs}.${s.counter}@${s.nodeId}`;
}

export interface HybridLogicalClockOptions {
  /** Physical clock (ms); injectable for tests of skewed clocks. */
  now?: () => number;
  /**
   * A remote stamp further than this ahead of our physical clock is still accepted (rejecting
   * it would break convergence) but reported through `onSkew`.
   */
  maxForwardSkewMs?: number;
  onSkew?: (remote: HlcStamp, skewMs: number) => void;
}

export class HybridLogicalClock {
  private wallMs = 0;
  private counter = 0;
  private readonly now: () => number;

  constructor(
    readonly nodeId: string,
    private readonly opts: HybridLogicalClockOptions = {},
  ) {
    assertId("node", nodeId);
    this.now = opts.now ?? Date.now;
  }

  /** A stamp for a local event (a local variable write), greater than every stamp seen so far. */
  tick(): HlcStamp {
    const pt = this.now();
    if (pt > this.wallMs) {
      this.wallMs = pt;
      this.counter = 0;
    } else {
      this.counter++;
    }
    return { wallMs: this.wallMs, counter: this.counter, nodeId: this.nodeId };
  }

  /** Merges a stamp received from another node, so later local ticks order after it. */
  receive(remote: HlcStamp): void {
    const pt = this.now();
    const skew = remote.wallMs - pt;
    if (this.opts.maxForwardSkewMs !== undefined && skew > this.opts.maxForwardSkewMs) {
      this.opts.onSkew?.(remote, skew);
    }
    const maxWall = Math.max(this.wallMs, remote.wallMs, pt);
    if (maxWall === this.wallMs && maxWall === remote.wallMs) {
      this.counter = Math.max(this.counter, remote.counter) + 1;
    } else if (maxWall === this.wallMs) {
      this.counter++;
    } else if (maxWall === remote.wallMs) {
      this.counter = remote.counter + 1;
    } else {
      this.counter = 0;
    }
    this.wallMs = maxWall;
  }

  /** The last stamp issued or merged (no tick). */
  peek(): HlcStamp {
    return { wallMs: this.wallMs, counter: this.counter, nodeId: this.nodeId };
  }
}

export interface VariableValue<V = Uint8Array> {
  stamp: HlcStamp;
  value: V;
}

/**
 * Decides, per variable slot, whether an incoming write replaces the current value: it does
 * when its stamp is strictly greater (last writer wins on the HLC total order). Re-delivering
 * the same write is a no-op (equal stamps never replace), which makes variable apply
 * idempotent on its own.
 */
export class VariableMerger<V = Uint8Array> {
  private readonly current = new Map<string, VariableValue<V>>();

  constructor(private readonly clock?: HybridLogicalClock) {}

  /**
   * Offers a write. Returns true when it won (the caller writes it into its mapping), false
   * when the current value is newer or the same write was already applied. Remote stamps are
   * merged into the clock either way.
   */
  offer(name: string, stamp: HlcStamp, value: V): boolean {
    if (this.clock && stamp.nodeId !== this.clock.nodeId) this.clock.receive(stamp);
    const cur = this.current.get(name);
    if (cur && compareStamps(stamp, cur.stamp) <= 0) return false;
    this.current.set(name, { stamp, value });
    return true;
  }

  /** A local write: ticks the clock, records the value, and returns the stamp to forward. */
  writeLocal(name: string, value: V): HlcStamp {
    if (!this.clock) throw new Error("VariableMerger.writeLocal needs a clock");
    const stamp = this.clock.tick();
    this.current.set(name, { stamp, value });
    return stamp;
  }

  get(name: string): VariableValue<V> | undefined {
    return this.current.get(name);
  }

  /** Seeds the merger with values already in the mapping (after a restart). */
  seed(name: string, stamp: HlcStamp, value: V): void {
    const cur = this.current.get(name);
    if (!cur || compareStamps(stamp, cur.stamp) > 0) this.current.set(name, { stamp, value });
  }

  entries(): IterableIterator<[string, VariableValue<V>]> {
    return this.current.entries();
  }
}
