// Opens a file read-only and writes through the mapping behind the wrapper's
// back. A PROT_READ mapping makes this fault: the process must die (SIGSEGV
// or SIGBUS) before it can print "wrote". args: path
import "./orphan-guard.js";
import { SharedFile } from "../../../native/lib/index.js";

const f = SharedFile.open(process.argv[2]!, { readOnly: true });
let refused = "";
try {
  f.variable("temp").write(new Uint8Array([1, 2, 3]));
} catch (e) {
  refused = (e as { code?: string }).code ?? "?";
}
process.stdout.write(`refused ${refused}\n`);
const bytes = new Uint8Array(f.handle.buffer);
bytes[5000] = 0x5a;
process.stdout.write("wrote\n");
