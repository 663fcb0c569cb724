#!/usr/bin/env node
// `npm run bench`: runs every benchmark suite (bench/<suite>/run.ts), each in its own
// process and one after another (2 cores: running them side by side would measure the
// contention, not Commy), then prints one summary of the headline ratios.
//
// Usage: npm run bench [-- suite ...]      e.g. npm run bench -- native http
//
// Each suite prints its own table and writes .tmp/bench/<suite>.json with the shape
//   { suite, machine, results: [{ id, name, value, unit, baseline?, ratio?, target?, met? }] }
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const ORDER = ["native", "worker", "routing", "http"];
const available = existsSync(path.join(root, "bench"))
  ? readdirSync(path.join(root, "bench")).filter((d) => existsSync(path.join(root, "bench", d, "run.ts")))
  : [];
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length) {
  console.error(`unknown suite(s): ${unknown.join(", ")}; available: ${available.join(", ") || "none"}`);
  process.exit(2);
}
const suites = (wanted.length ? wanted : available).sort(
  (a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99),
);

mkdirSync(path.join(root, ".tmp", "bench"), { recursive: true });
console.log(`Commy benchmarks on ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
console.log(`suites: ${suites.join(", ")}\n`);

const failed = [];
for (const suite of suites) {
  console.log(`\n━━ ${suite} ━━`);
  const started = Date.now();
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join("bench", suite, "run.ts")], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  console.log(`(${suite}: ${((Date.now() - started) / 1000).toFixed(0)} s, exit ${r.status ?? r.signal})`);
  if (r.status !== 0) failed.push(suite);
}

console.log("\n━━ summary ━━");
for (const suite of suites) {
  const file = path.join(root, ".tmp", "bench", `${suite}.json`);
  if (!existsSync(file)) {
    console.log(`${suite}: no results written`);
    continue;
  }
  let data;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    console.log(`${suite}: unreadable results (${e.message})`);
    continue;
  }
  for (const r of data.results ?? []) {
    const ratio = typeof r.ratio === "number" ? `  ratio ${r.ratio.toFixed(2)}×${r.baselineName ? ` vs ${r.baselineName}` : ""}` : "";
    const target = r.target ? `  target ${r.target}: ${r.met === true ? "met" : r.met === false ? "MISSED" : "n/a"}` : "";
    console.log(`${(r.id ?? "").padEnd(4)} ${String(r.name).padEnd(58)} ${String(r.value).padStart(12)} ${r.unit ?? ""}${ratio}${target}`);
  }
}
if (failed.length) {
  console.error(`\nsuites that failed: ${failed.join(", ")}`);
  process.exit(1);
}
