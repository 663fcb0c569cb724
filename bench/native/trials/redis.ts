// Redis GET baseline for B1: sequential GETs of a 64 B value over loopback.
//   get PORT
import { Redis } from "ioredis";
import { emit, now } from "./common.js";

const [, port] = process.argv.slice(2) as [string, string];
const r = new Redis({ host: "127.0.0.1", port: Number(port), lazyConnect: true });
await r.connect();
await r.set("b1", Buffer.alloc(64, 7));
const n = 20_000;
for (let i = 0; i < 2000; i++) await r.getBuffer("b1");
const t0 = now();
for (let i = 0; i < n; i++) await r.getBuffer("b1");
emit({ ns_per_op: Math.round((now() - t0) / n), ops: n });
r.disconnect();
