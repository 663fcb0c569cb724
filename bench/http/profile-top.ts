/**
 * Summarises V8 CPU profiles (`.cpuprofile`, e.g. from `HTTP_BENCH_PROFILE=1`): the top functions
 * by self time, and the share of time under a few paths of interest, so a profile of the app under
 * load can be read without a GUI.
 *
 *   node --import tsx bench/http/profile-top.ts <file.cpuprofile> [top=40] [skipSeconds=0]
 *
 * `skipSeconds` leaves out the first seconds of the profile (start-up, module loading, warm-up).
 * PROFILE_DROP=writev,(idle) leaves out samples taken in those functions: on a busy machine a
 * thread descheduled inside a syscall (a loopback write wakes the peer, which then runs) is
 * sampled there, so that time is mostly other processes' CPU, not this one's.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const file = process.argv[2];
if (!file) throw new Error("usage: profile-top.ts <file.cpuprofile> [top]");
const top = Number(process.argv[3] ?? 40);
const skipMicros = Number(process.argv[4] ?? 0) * 1e6;
const prof = JSON.parse(readFileSync(file, "utf8")) as Profile;

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const self = new Map<number, number>();
const drop = new Set((process.env.PROFILE_DROP ?? "").split(",").filter(Boolean));
let elapsed = 0;
prof.samples.forEach((id, i) => {
  elapsed += prof.timeDeltas[i] ?? 0;
  if (elapsed < skipMicros || drop.has(byId.get(id)!.callFrame.functionName)) return;
  self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
});
const total = [...self.values()].reduce((a, b) => a + b, 0);

const label = (n: ProfileNode) => {
  const url = n.callFrame.url.replace(/^.*\/(node_modules\/)/, "$1").replace(/^file:\/\/.*?\/(\.next|src|server)/, "$1");
  return `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`;
};

const selfByLabel = new Map<string, number>();
for (const [id, t] of self) {
  const l = label(byId.get(id)!);
  selfByLabel.set(l, (selfByLabel.get(l) ?? 0) + t);
}
const pct = (t: number) => ((100 * t) / total).toFixed(1).padStart(5);
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
console.log(`\ntop ${top} by self time:`);
for (const [l, t] of [...selfByLabel].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}%  ${l}`);

// Inclusive time per function name (counted once per sample even when recursive).
const incl = new Map<string, number>();
for (const [id, t] of self) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const name = byId.get(cur)!.callFrame.functionName || "(anonymous)";
    if (seen.has(name)) continue;
    seen.add(name);
    incl.set(name, (incl.get(name) ?? 0) + t);
  }
}
console.log(`\ntop ${top} by inclusive time (by function name):`);
for (const [l, t] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}%  ${l}`);
