// Writes checksummed values to one variable forever (until killed).
// args: path name writerId maxLen
import { parentGone } from "./orphan-guard.js";
import { SharedFile } from "../../../native/lib/index.js";
import { checksummedValue } from "./util.js";

const [path, name, idArg, maxLenArg] = process.argv.slice(2);
const id = Number(idArg);
const maxLen = Number(maxLenArg);
const f = SharedFile.open(path!);
const v = f.variable(name!);
// Precompute values so that almost all the time is spent inside write():
// a SIGKILL then usually lands while the slot lock is held.
const pool = Array.from({ length: 16 }, (_, i) => checksummedValue(8 + ((i * 7919 + id * 104729) % (maxLen - 7)), id * 1000 + i));
process.stdout.write("ready\n");
for (let i = 0; ; i++) {
  v.write(pool[i & 15]!);
  if ((i & 4095) === 0) parentGone();
}
