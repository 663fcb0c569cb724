// Reads one variable continuously for durationMs, verifying every value.
// args: path name durationMs ; prints {reads, torn, distinctVersions, lastVersion}
import { SharedFile } from "../../../native/lib/index.js";
import { checksumOk } from "./util.js";

const [path, name, durationArg] = process.argv.slice(2);
const f = SharedFile.open(path!, { readOnly: true });
const v = f.variable(name!);
const out = new Uint8Array(v.maxSize);
const end = Date.now() + Number(durationArg);
let reads = 0;
let torn = 0;
let changes = 0;
let last = -1;
process.stdout.write("ready\n");
while (Date.now() < end) {
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
