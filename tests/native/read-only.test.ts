import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";

import { SharedFile } from "../../native/lib/index.js";
import { finished, spawnHelper, tempDir, killHelpers } from "./helpers/util.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(async () => {
  await killHelpers(); // never leave a helper running, even after a failure or timeout
  cleanup();
});

it("a read-only mapping cannot be written: the wrapper refuses, a raw store faults, the file is unchanged", async () => {
  const path = join(dir, "vars");
  const f = SharedFile.create(path, { kind: "variables", slots: [{ name: "temp", maxSize: 4096 }] });
  f.variable("temp").write(new Uint8Array([1, 2, 3, 4]));
  f.close();
  const hash = () => createHash("sha256").update(readFileSync(path)).digest("hex");
  const before = hash();

  const r = await finished(spawnHelper("ro-write.ts", [path]));
  expect(r.stdout).toContain("refused COMMY_E_READ_ONLY");
  expect(r.stdout).not.toContain("wrote");
  expect(["SIGSEGV", "SIGBUS"]).toContain(r.signal);
  expect(hash()).toBe(before);
});
