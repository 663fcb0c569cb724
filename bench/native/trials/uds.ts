// Unix-domain-socket baselines in Node (each role in its own process):
//   echo SOCK ROUNDS          B2 responder (echoes 64 B)
//   ping SOCK ROUNDS          B2 requester: round-trip latency
//   sink SOCK COUNT           B4 consumer: messages/s (64 B each)
//   source SOCK COUNT MODE    B4 producer, MODE single (one write per message) | batch (256 per write)
import { createServer, connect } from "node:net";
import { emit, latencyStats, now } from "./common.js";

const [role, sock, countArg, mode] = process.argv.slice(2) as [string, string, string, string];
const count = Number(countArg);

if (role === "echo" || role === "sink") {
  const server = createServer((c) => {
    c.setNoDelay?.(true);
    if (role === "echo") {
      c.on("data", (d) => c.write(d));
    } else {
      let bytes = 0;
      let t0 = 0;
      c.on("data", (d) => {
        if (t0 === 0) t0 = now();
        bytes += d.length;
        if (bytes >= count * 64) {
          const seconds = (now() - t0) / 1e9;
          emit({ messages: bytes / 64, seconds, msgs_per_s: Math.round(bytes / 64 / seconds) });
          process.exit(0);
        }
      });
    }
    c.on("close", () => process.exit(0));
  });
  server.listen(sock, () => process.stdout.write("ready\n"));
} else if (role === "ping") {
  const c = connect(sock);
  const buf = Buffer.alloc(64, 1);
  const samples = new Float64Array(count);
  let i = 0;
  let got = 0;
  let t0 = 0;
  c.on("connect", () => {
    t0 = now();
    c.write(buf);
  });
  c.on("data", (d) => {
    got += d.length;
    if (got < 64) return;
    got -= 64;
    samples[i++] = now() - t0;
    if (i === count) {
      emit(latencyStats(samples));
      c.end();
      return;
    }
    t0 = now();
    c.write(buf);
  });
} else if (role === "source") {
  const c = connect(sock);
  c.on("connect", async () => {
    const per = mode === "batch" ? 256 : 1;
    const chunk = Buffer.alloc(64 * per, 3);
    let sent = 0;
    while (sent < count) {
      if (!c.write(chunk)) await new Promise((r) => c.once("drain", r));
      sent += per;
    }
    c.end();
    emit({ sent });
  });
}
