// Reads one variable continuously, verifying every value, until the
// variable "stop" is written (or durationMs passed).
// args: path name durationMs ; prints {reads, torn, changes, lastVersion}
import { parentGone } from "./orphan-guard.js";
import { SharedFile } from "../../../native/lib/index.js";
import { checksumOk } from "./util.js";

const [path, name, durationArg] = process.argv.slice(2);
const f = SharedFile.open(path!, { readOnly: true });
const v = f.variable(name!);
const out = new Uint8Array(v.maxSize);
const stop = f.variable("stop");
const end = Date.now() + Number(durationArg);
let reads = 0;
let torn = 0;
let changes = 0;
let last = -1;
process.stdout.write("ready\n");
while (Date.now() < end && stop.version === 0 && !parentGone()) {
  for (let k = 0; k < 1000; k++) {
    const len = v.readInto(out);
    reads++;
    if (v.lastVersion === 0) continue; // never written yet
    if (!checksumOk(out, len)) torn++;
    if (v.lastVersion !== last) {
      changes++;
      last = v.lastVersion;
    }
  }
}
console.log(JSON.stringify({ reads, torn, changes, lastVersion: last }));
