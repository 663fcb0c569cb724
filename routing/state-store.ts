/**
 * Where a consumer keeps its applied state: the last applied stream id and the dedupe window.
 *
 * The built-in store keeps it in Redis, in `commy:{t:…:f:…}:applied:<nodeId>`, and commits it
 * together with the XACK of the batch in one Lua script (same hash slot), so Redis never holds
 * "acknowledged but not recorded as applied".
 *
 * What no store in Redis can give: atomicity with the *apply side effect*. If the process dies
 * after apply() returned but before the commit, the batch is delivered again on restart and
 * the persisted window does not know it was applied. A sink that must never see a record
 * twice across crashes (the worker's mapping) keeps the applied state next to its data and
 * passes a custom store whose load() reads it back: see docs/spec/redis-routing.md
 * "Exactly-once apply across crashes".
 */
import { Packr } from "msgpackr";
import type { RedisClient } from "./connection";
import type { DedupeSnapshot } from "./dedupe";
import type { FileKeys } from "./keys";

const packr = new Packr({ useRecords: false });

export interface AppliedState {
  /** Last stream id this node applied (or dead-lettered), "0-0" when none. */
  lastId: string;
  window: DedupeSnapshot;
}

export interface AppliedStateStore {
  load(): Promise<AppliedState | null>;
  /**
   * Persists the state after a batch was applied and before its entries are acknowledged.
   * `ackIds` are the entries to acknowledge; a store may acknowledge them itself in the same
   * atomic step (and then returns true), otherwise the consumer sends XACK after save.
   */
  save(state: AppliedState, ack: { stream: string; group: string; ids: string[] }): Promise<boolean>;
}

/**
 * KEYS[1] applied-state hash, KEYS[2] stream
 * ARGV[1] group, ARGV[2] last applied id, ARGV[3] dedupe window (msgpack), ARGV[4] now ms,
 * ARGV[5..] stream ids to XACK
 * Returns the number of entries acknowledged.
 */
export const COMMIT_LUA = `
redis.call('HSET', KEYS[1], 'last', ARGV[2], 'window', ARGV[3], 'at', ARGV[4])
if #ARGV >= 5 then
  return redis.call('XACK', KEYS[2], ARGV[1], unpack(ARGV, 5))
end
return 0
`;

export class RedisAppliedStateStore implements AppliedStateStore {
  constructor(
    private readonly client: RedisClient,
    private readonly keys: FileKeys,
    private readonly nodeId: string,
  ) {}

  async load(): Promise<AppliedState | null> {
    const [last, window] = await this.client.hmgetBuffer(this.keys.applied(this.nodeId), "last", "window");
    if (!last) return null;
    return {
      lastId: last.toString(),
      window: window ? (packr.unpack(window) as DedupeSnapshot) : [],
    };
  }

  async save(state: AppliedState, ack: { stream: string; group: string; ids: string[] }): Promise<boolean> {
    const args: (string | Buffer | number)[] = [
      COMMIT_LUA, 2, this.keys.applied(this.nodeId), ack.stream,
      ack.group, state.lastId, Buffer.from(packr.pack(state.window)), Date.now(), ...ack.ids,
    ];
    // EVAL (not EVALSHA) keeps this correct after a Redis restart flushed the script cache;
    // the script is short, so the cost is parsing ~200 bytes per committed batch.
    await this.client.call("EVAL", args);
    return true;
  }
}
