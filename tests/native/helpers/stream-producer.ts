// Appends `count` checksummed messages (producer id in bytes 4..8, a per
// producer counter in 8..12), single or in batches of 16. With "forever"
// it loops until killed. args: path id count mode(single|batch|forever)
import { parentGone } from "./orphan-guard.js";
import { SharedFile, CommyError } from "../../../native/lib/index.js";
import { fnv1a } from "./util.js";

const [path, idArg, countArg, mode] = process.argv.slice(2);
const id = Number(idArg);
const count = Number(countArg);
const f = SharedFile.open(path!);
const s = f.stream;

function message(n: number): Uint8Array {
  const len = 16 + ((n * 31 + id * 7) % (s.messageMaxSize - 15));
  const m = new Uint8Array(len);
  const dv = new DataView(m.buffer);
  dv.setUint32(4, id, true);
  dv.setUint32(8, n, true);
  for (let i = 12; i < len; i++) m[i] = (n * 13 + i * id) & 0xff;
  dv.setUint32(0, fnv1a(m, 4), true);
  return m;
}

process.stdout.write("ready\n");
let full = 0;
let n = 0;
const limit = mode === "forever" ? Infinity : count;
if (mode === "try") {
  // tryAppendPacked + waitForSpace: no exceptions for backpressure.
  const batchMax = 16;
  const data = new Uint8Array(batchMax * s.messageMaxSize);
  const lens = new Uint32Array(batchMax);
  while (n < limit) {
    let off = 0;
    const k = Math.min(batchMax, limit - n);
    for (let j = 0; j < k; j++) {
      const m = message(n + j);
      data.set(m, off);
      lens[j] = m.length;
      off += m.length;
    }
    // Retry the not-yet-appended suffix until the whole batch is in.
    let done = 0;
    while (done < k) {
      let skip = 0;
      for (let j = 0; j < done; j++) skip += lens[j]!;
      const got = s.tryAppendPacked(data.subarray(skip), lens.subarray(done), k - done);
      done += got;
      if (done < k) {
        full++;
        await s.waitForSpace(1, { mode: "notify", timeoutMs: 1000 });
      }
    }
    n += k;
  }
}
while (n < limit) {
  if ((n & 4095) === 0) parentGone();
  try {
    if (mode === "batch") {
      const batch: Uint8Array[] = [];
      for (let k = 0; k < 16 && n + k < limit; k++) batch.push(message(n + k));
      s.appendBatch(batch);
      n += batch.length;
    } else {
      s.append(message(n));
      n++;
    }
  } catch (e) {
    if (e instanceof CommyError && e.code === "COMMY_E_STREAM_FULL") {
      full++; // backpressure: let the consumer catch up
      await new Promise((r) => setImmediate(r));
      continue;
    }
    throw e;
  }
}
console.log(JSON.stringify({ id, appended: n, full }));
