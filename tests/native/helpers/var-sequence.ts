// Writer role: writes the counter values 1..count to variable "counter",
// pausing now and then so the reader must really wait.
// Reader role: waits (notify mode) for changes until it saw `count`, checks
// that values and versions only move forward. args: role path count
import "./orphan-guard.js";
import { SharedFile } from "../../../native/lib/index.js";

const [role, path, countArg] = process.argv.slice(2);
const count = Number(countArg);
if (role === "writer") {
  const f = SharedFile.open(path!);
  const v = f.variable("counter");
  const buf = new Uint8Array(8);
  const dv = new DataView(buf.buffer);
  for (let i = 1; i <= count; i++) {
    dv.setFloat64(0, i, true);
    v.write(buf);
    if (i % 50 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  console.log(JSON.stringify({ wrote: count, version: v.version }));
} else {
  const f = SharedFile.open(path!, { readOnly: role === "reader-ro" });
  const v = f.variable("counter");
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  let lastValue = 0;
  let lastVersion = v.version;
  let regressions = 0;
  let wakeups = 0;
  process.stdout.write("ready\n");
  while (lastValue < count) {
    const changed = await v.waitForChange(lastVersion, { mode: "notify", timeoutMs: 60_000 } /* safety net only */);
    if (!changed) break;
    wakeups++;
    v.readInto(out);
    const value = dv.getFloat64(0, true);
    if (value < lastValue || v.lastVersion <= lastVersion) regressions++;
    lastValue = value;
    lastVersion = v.lastVersion;
  }
  console.log(JSON.stringify({ lastValue, lastVersion, regressions, wakeups }));
}
