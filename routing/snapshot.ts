/**
 * Variable snapshots in Redis: the latest value of every variable slot of a shared file, for
 * clients that have no local worker (the control plane's REST/tRPC "read a variable" goes
 * through here) and for nodes that join after the stream was trimmed.
 *
 * Key: `commy:{t:<tenantId>:f:<fileId>}:vars` (hash, same hash tag as the file's stream).
 * Field = slot name; value = `1:<hlcWallMs>:<hlcCounter>:<originNodeId>:` followed by the
 * payload bytes exactly as the application wrote them (docs/spec/redis-routing.md §2, §4).
 *
 * The producer updates the hash in the same Lua script as the XADD of the frame that carries
 * the writes, and replaces a field only with a strictly greater HLC stamp (wall, counter, node
 * id by bytes): the hash holds, per slot, the last writer by the same total order every node
 * converges to, whatever order concurrent producers' scripts run in. Re-running a frame (the
 * resend of a frame whose reply was lost) changes nothing: equal stamps never replace.
 * The hash is not trimmed with the stream: a value stays readable after its frame is gone.
 */
import { createHash } from "node:crypto";
import type { RedisClient } from "./connection";
import { RoutingError } from "./errors";
import { compareStamps, type HlcStamp } from "./hlc";
import { fileKeys, type FileRef } from "./keys";

/** Format version of a snapshot field value. */
export const SNAPSHOT_VERSION = "1";

export interface VariableSnapshot {
  /** The value's bytes, as the writer wrote them. */
  payload: Uint8Array;
  /** HLC stamp of the write (its nodeId is the origin). */
  stamp: HlcStamp;
  /** Node that made the write. */
  origin: string;
}

/** `commy:{t:<tenantId>:f:<fileId>}:vars` */
export function variableSnapshotKey(file: FileRef): string {
  return `${fileKeys(file).stream.slice(0, -":stream".length)}:vars`;
}

/**
 * XADD of one frame plus the snapshot update of its variable writes, atomically.
 * KEYS[1] stream, KEYS[2] vars hash
 * ARGV[1] n = number of XADD arguments after the key; ARGV[2..n+1] those arguments (trim, `*`,
 * fields); ARGV[n+2] origin node id; then 4 per variable write: name, wallMs, counter, payload.
 * Returns the stream id of the new entry.
 */
export const XADD_WITH_SNAPSHOT_LUA = `
local n = tonumber(ARGV[1])
local id = redis.call('XADD', KEYS[1], unpack(ARGV, 2, n + 1))
local origin = ARGV[n + 2]
local function bytes_lt(a, b)
  local la, lb = #a, #b
  for i = 1, math.min(la, lb) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return la < lb
end
for i = n + 3, #ARGV, 4 do
  local name, wall, counter = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  local newer = true
  local cur = redis.call('HGET', KEYS[2], name)
  if cur then
    local cw, cc, cn = string.match(cur, '^1:(%d+):(%d+):([^:]+):')
    if cw then
      cw, cc = tonumber(cw), tonumber(cc)
      if wall ~= cw then newer = wall > cw
      elseif counter ~= cc then newer = counter > cc
      else newer = bytes_lt(cn, origin) end
    end
  end
  if newer then
    redis.call('HSET', KEYS[2], name, '1:' .. ARGV[i + 1] .. ':' .. ARGV[i + 2] .. ':' .. origin .. ':' .. ARGV[i + 3])
  end
end
return id
`;

const SCRIPT_SHA = createHash("sha1").update(XADD_WITH_SNAPSHOT_LUA).digest("hex");

export interface SnapshotWrite {
  name: string;
  payload: Uint8Array;
  stamp: HlcStamp;
}

/**
 * The snapshot arguments of a frame: per slot name only the write with the greatest stamp
 * (fewer bytes to Redis; the script would discard the others anyway).
 */
export function snapshotArgs(origin: string, writes: readonly SnapshotWrite[]): (string | Buffer)[] {
  const best = new Map<string, SnapshotWrite>();
  for (const w of writes) {
    const cur = best.get(w.name);
    if (!cur || compareStamps(w.stamp, cur.stamp) > 0) best.set(w.name, w);
  }
  const args: (string | Buffer)[] = [origin];
  for (const w of best.values()) {
    // A copy: the frame is resent unchanged after a failure, whatever the caller does with its buffer.
    args.push(w.name, String(w.stamp.wallMs), String(w.stamp.counter), Buffer.from(w.payload));
  }
  return args;
}

/**
 * Runs XADD + snapshot update (EVALSHA, falling back to EVAL when the script is not cached,
 * e.g. after a Redis restart or on another Cluster node).
 */
export async function xaddWithSnapshot(
  client: RedisClient,
  file: { stream: string; vars: string },
  xaddArgs: readonly (string | number | Buffer)[],
  snapshot: readonly (string | Buffer)[],
): Promise<unknown> {
  const tail = [2, file.stream, file.vars, xaddArgs.length, ...xaddArgs, ...snapshot];
  try {
    return await client.call("EVALSHA", [SCRIPT_SHA, ...tail]);
  } catch (e) {
    if (!String((e as Error)?.message).startsWith("NOSCRIPT")) throw e;
    return client.call("EVAL", [XADD_WITH_SNAPSHOT_LUA, ...tail]);
  }
}

/** Parses one field value of the snapshot hash. */
export function parseSnapshotValue(raw: Buffer): VariableSnapshot {
  // "1:<wall>:<counter>:<origin>:" then the payload; the header is ASCII.
  let colons = 0;
  let end = -1;
  for (let i = 0; i < raw.length && i < 160; i++) {
    if (raw[i] === 0x3a && ++colons === 4) {
      end = i;
      break;
    }
  }
  const header = end > 0 ? raw.subarray(0, end).toString("latin1").split(":") : [];
  const [v, wall, counter, origin] = header;
  if (v !== SNAPSHOT_VERSION || !wall || !counter || !origin || !/^\d+$/.test(wall) || !/^\d+$/.test(counter)) {
    throw new RoutingError("ROUTE_BAD_ENTRY", "variable snapshot value is malformed or of an unknown version");
  }
  const stamp = { wallMs: Number(wall), counter: Number(counter), nodeId: origin };
  return { payload: new Uint8Array(raw.subarray(end + 1)), stamp, origin };
}

/** The latest value of one variable slot of a file, or null when it was never written. */
export async function readVariableSnapshot(redis: RedisClient, file: FileRef, name: string): Promise<VariableSnapshot | null> {
  const raw = await redis.hgetBuffer(variableSnapshotKey(file), name);
  return raw ? parseSnapshotValue(raw) : null;
}

/** The latest value of every variable slot of a file that was written through routing. */
export async function readVariableSnapshots(redis: RedisClient, file: FileRef): Promise<Map<string, VariableSnapshot>> {
  // hgetallBuffer (not callBuffer): callBuffer breaks on auto-pipelined clients in ioredis 6.0.0.
  const flat = (await redis.hgetallBuffer(variableSnapshotKey(file))) as unknown as Buffer[] | Record<string, Buffer>;
  const out = new Map<string, VariableSnapshot>();
  if (Array.isArray(flat)) {
    for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i]!.toString(), parseSnapshotValue(flat[i + 1]!));
  } else {
    for (const [k, v] of Object.entries(flat)) out.set(k, parseSnapshotValue(v));
  }
  return out;
}
