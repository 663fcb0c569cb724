// NATS baselines (@nats-io/transport-node against a local nats-server):
//   respond PORT ROUNDS       B2 responder (request/reply echo)
//   request PORT ROUNDS       B2 requester: round-trip latency
//   sub PORT COUNT            B4 subscriber: messages/s
//   pub PORT COUNT            B4 publisher (64 B messages)
import { connect } from "@nats-io/transport-node";
import { emit, latencyStats, now } from "./common.js";

const [role, port, countArg] = process.argv.slice(2) as [string, string, string];
const count = Number(countArg);
const nc = await connect({ servers: `127.0.0.1:${port}` });

if (role === "respond") {
  const sub = nc.subscribe("bench.rr", { max: count });
  process.stdout.write("ready\n");
  for await (const m of sub) m.respond(m.data);
  await nc.drain();
  emit({ done: count });
} else if (role === "request") {
  const payload = new Uint8Array(64).fill(1);
  const samples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const t0 = now();
    await nc.request("bench.rr", payload, { timeout: 5000 });
    samples[i] = now() - t0;
  }
  emit(latencyStats(samples));
  await nc.close();
} else if (role === "sub") {
  const sub = nc.subscribe("bench.stream", { max: count });
  await nc.flush();
  process.stdout.write("ready\n");
  let got = 0;
  let t0 = 0;
  for await (const _m of sub) {
    if (got === 0) t0 = now();
    got++;
  }
  const seconds = (now() - t0) / 1e9;
  emit({ messages: got, seconds, msgs_per_s: Math.round(got / seconds) });
  await nc.close();
} else if (role === "pub") {
  const payload = new Uint8Array(64).fill(3);
  for (let i = 0; i < count; i++) {
    nc.publish("bench.stream", payload);
    if ((i & 1023) === 0) await nc.flush(); // bounded client buffer
  }
  await nc.flush();
  emit({ sent: count });
  await nc.close();
}
