/**
 * B7 load: N simulated worker nodes, each sending the real `POST /api/worker/heartbeat` with its
 * own node credential every `intervalMs` (phases spread evenly, so the rate is N / interval).
 * Runs in its own process (bench/http/run.ts starts it), so its CPU is not the load generator's.
 *
 *   node --import tsx bench/http/heartbeats.ts <baseUrl> <credentials.json> <intervalMs>
 *
 * On SIGTERM (or stdin closing) it stops, prints one JSON line of statistics and exits:
 * { sent, ok, failed, statuses, rps, p50, p99, seconds, cpuMsPerBeat }. Latency is request → full
 * response; cpuMsPerBeat is this process's CPU per heartbeat sent (from the first beat on).
 */
import { readFileSync } from "node:fs";
import http from "node:http";

const [baseUrl, credentialsFile, intervalArg] = process.argv.slice(2);
if (!baseUrl || !credentialsFile) {
  console.error("usage: heartbeats.ts <baseUrl> <credentials.json> <intervalMs>");
  process.exit(2);
}
const intervalMs = Number(intervalArg ?? 5000);
const credentials = JSON.parse(readFileSync(credentialsFile, "utf8")) as string[];
const url = new URL("/api/worker/heartbeat", baseUrl);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const body = JSON.stringify({
  state: "running",
  version: "bench",
  settingsVersion: 0,
  catalogueEtag: null,
  stats: { sessions: 1, attachments: 2, mappedBytes: 65536 },
});

let sent = 0;
let ok = 0;
let failed = 0;
const statuses: Record<string, number> = {};
const latencies: number[] = [];
const started = process.hrtime.bigint();

function beat(credential: string): void {
  sent++;
  const t0 = process.hrtime.bigint();
  const req = http.request(
    url,
    {
      method: "POST",
      agent,
      headers: { authorization: `Node ${credential}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
    },
    (res) => {
      res.resume();
      res.on("end", () => {
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
        if (res.statusCode === 200) ok++;
        else failed++;
      });
    },
  );
  req.on("error", () => {
    failed++;
    statuses.error = (statuses.error ?? 0) + 1;
  });
  req.end(body);
}

const timers: NodeJS.Timeout[] = [];
const cpuAtStart = process.cpuUsage();
credentials.forEach((credential, i) => {
  const phase = (intervalMs * i) / credentials.length;
  timers.push(
    setTimeout(() => {
      beat(credential);
      timers.push(setInterval(() => beat(credential), intervalMs));
    }, phase),
  );
});

let done = false;
function finish(): void {
  if (done) return;
  done = true;
  for (const t of timers) clearTimeout(t);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const sorted = latencies.sort((a, b) => a - b);
  // This process's own CPU per heartbeat: on one machine it shares the cores with the app.
  const cpu = process.cpuUsage(cpuAtStart);
  const cpuMsPerBeat = (cpu.user + cpu.system) / 1000 / Math.max(1, sent);
  const q = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : 0);
  process.stdout.write(
    `${JSON.stringify({ sent, ok, failed, statuses, rps: ok / seconds, p50: q(0.5), p99: q(0.99), seconds, cpuMsPerBeat })}\n`,
    () => process.exit(0),
  );
}
process.on("SIGTERM", finish);
process.stdin.on("end", finish);
process.stdin.resume();
