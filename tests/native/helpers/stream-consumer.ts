// Consumes until `expected` messages are accounted for (received + lost:
// a lossy reader knows exactly how many it missed), or, as a safety net
// against a hang, `idleMs` without data. Process start-up under CPU load
// can take seconds, so the idle timeout must never be the normal way out.
// Verifies checksums and per-producer order.
// args: path expected idleMs readOnly(0|1) from [stopProducer stopN]
// (with stopProducer/stopN: also stop once that producer's message stopN arrived)
import "./orphan-guard.js";
import { SharedFile } from "../../../native/lib/index.js";
import { fnv1a } from "./util.js";

const [path, expectedArg, idleArg, roArg, fromArg, stopProducerArg, stopNArg] = process.argv.slice(2);
const stopProducer = stopProducerArg === undefined ? -1 : Number(stopProducerArg);
const stopN = Number(stopNArg ?? -1);
const expected = Number(expectedArg);
const f = SharedFile.open(path!, { readOnly: roArg === "1" });
const r = f.stream.reader({ from: fromArg === "earliest" ? "earliest" : "latest" });
const out = new Uint8Array(f.stream.messageMaxSize);
const lastByProducer = new Map<number, number>();
let received = 0;
let torn = 0;
let outOfOrder = 0;
let seqGaps = 0;
let lastSeq = -1;
process.stdout.write("ready\n");
while (received + r.lost < expected) {
  const len = r.nextInto(out);
  if (len < 0) {
    const got = await r.waitForData({ mode: "notify", timeoutMs: Number(idleArg) });
    if (!got) break;
    continue;
  }
  received++;
  if (lastSeq >= 0 && r.lastSeq !== lastSeq + 1 + 0) seqGaps++;
  lastSeq = r.lastSeq;
  const dv = new DataView(out.buffer);
  if (len < 12 || dv.getUint32(0, true) !== fnv1a(out, 4, len)) {
    torn++;
    continue;
  }
  const producer = dv.getUint32(4, true);
  const n = dv.getUint32(8, true);
  const prev = lastByProducer.get(producer) ?? -1;
  if (n <= prev) outOfOrder++;
  lastByProducer.set(producer, n);
  if (producer === stopProducer && n === stopN) break;
}
r.close();
console.log(
  JSON.stringify({ received, torn, outOfOrder, lost: r.lost, seqGaps, producers: Object.fromEntries(lastByProducer) }),
);
