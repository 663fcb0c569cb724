// Builds native/build/Release/commy_native.node with node-gyp, offline.
//
// node-gyp downloads Node's headers unless told where they are; on Debian
// they ship in /usr/include/node, so we pass --nodedir=/usr when that exists
// (or honour an explicit npm_config_nodedir). Runs from `npm ci`
// (postinstall) and `npm run build:native`.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const nativeDir = join(dirname(fileURLToPath(import.meta.url)), "..");

function findNodeGyp() {
  const candidates = [];
  try {
    candidates.push(createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js"));
  } catch {
    // not a dependency of the project: fall back to npm's bundled copy
  }
  const npmBundled = join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js");
  candidates.push(npmBundled, "/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js", "/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js");
  return candidates.find((p) => existsSync(p));
}

const gyp = findNodeGyp();
if (!gyp) {
  console.error("commy native: node-gyp not found (it ships with npm); cannot build the native module");
  process.exit(1);
}

const args = [gyp, "rebuild", "--release"];
const nodedir = process.env.npm_config_nodedir;
if (nodedir) args.push(`--nodedir=${nodedir}`);
else if (existsSync("/usr/include/node/node_api.h")) args.push("--nodedir=/usr");

const started = Date.now();
const r = spawnSync(process.execPath, args, {
  cwd: nativeDir,
  stdio: "inherit",
  env: { ...process.env, JOBS: process.env.JOBS ?? "2" },
});
if (r.status !== 0) {
  console.error(`commy native: node-gyp failed (exit ${r.status ?? r.signal})`);
  process.exit(r.status ?? 1);
}
console.log(`commy native: built build/Release/commy_native.node in ${Date.now() - started} ms`);
