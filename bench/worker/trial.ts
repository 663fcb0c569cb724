/**
 * One side of one worker benchmark trial, in its own process. argv[2] is JSON:
 *   { mode, socketPath, apiKey, file, path, n, role? }
 * Prints one JSON line with the result. "client-*" modes go through the client library (socket
 * to open, then the mapping); "raw-*" modes open the same file directly with the native module.
 */
import { SharedFile } from "../../native/lib/index";
import { connect, type StreamHandle, type VariablesHandle } from "../../worker/client/index";
import { MessageType } from "../../worker/protocol/frame";
import { closeFd } from "../../native/lib/fd-passing";

const a = JSON.parse(process.argv[2]!) as { mode: string; socketPath: string; apiKey: string; file: string; path: string; n: number; role?: string };
const out = (m: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(m)}\n`);
const now = () => Number(process.hrtime.bigint());
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function main(): Promise<void> {
  switch (a.mode) {
    case "open": {
      const c = await connect({ socketPath: a.socketPath, apiKey: a.apiKey, reconnect: false });
      const lat: number[] = [];
      for (let i = 0; i < a.n + 20; i++) {
        const t0 = now();
        const h = await c.open(a.file, { side: "consumer" });
        const t1 = now();
        await h.close();
        if (i >= 20) lat.push((t1 - t0) / 1000);
      }
      // Breakdown: OPEN round trip, fd fetch, mapping (same steps as client.open, timed apart).
      const conn = (c as unknown as { conn: { request(t: number, b: unknown, e: number): Promise<unknown>; fetchFd(t: string): Promise<number>; closeAttachment(id: string): Promise<void> } }).conn;
      const tOpen: number[] = [];
      const tFd: number[] = [];
      const tMap: number[] = [];
      for (let i = 0; i < Math.min(a.n, 200); i++) {
        const t0 = now();
        const opened = (await conn.request(MessageType.OPEN, { name: a.file, side: "CONSUMER" }, MessageType.OPENED)) as { fdTicket: string; attachmentId: string };
        const t1 = now();
        const fd = await conn.fetchFd(opened.fdTicket);
        const t2 = now();
        const f = SharedFile.openFd(fd, { readOnly: true });
        const t3 = now();
        f.close();
        closeFd(fd);
        await conn.closeAttachment(opened.attachmentId);
        tOpen.push((t1 - t0) / 1000);
        tFd.push((t2 - t1) / 1000);
        tMap.push((t3 - t2) / 1000);
      }
      process.stderr.write(JSON.stringify({ openRt: pct(tOpen, 50), fd: pct(tFd, 50), map: pct(tMap, 50) }) + "\n");
      const rt: number[] = [];
      for (let i = 0; i < a.n + 20; i++) {
        const t0 = now();
        await conn.request(MessageType.HEARTBEAT, {}, MessageType.HEARTBEAT_ACK);
        if (i >= 20) rt.push((now() - t0) / 1000);
      }
      await c.close();
      out({ p50: pct(lat, 50), p99: pct(lat, 99), rtP50: pct(rt, 50), rtP99: pct(rt, 99) });
      break;
    }
    case "raw-open": {
      const lat: number[] = [];
      for (let i = 0; i < a.n + 20; i++) {
        const t0 = now();
        const f = SharedFile.open(a.path, { readOnly: true });
        const t1 = now();
        f.close();
        if (i >= 20) lat.push((t1 - t0) / 1000);
      }
      out({ p50: pct(lat, 50), p99: pct(lat, 99) });
      break;
    }
    case "client-b1":
    case "raw-b1": {
      const buf = new Uint8Array(64);
      let read: () => number;
      let c: Awaited<ReturnType<typeof connect>> | null = null;
      if (a.mode === "client-b1") {
        c = await connect({ socketPath: a.socketPath, apiKey: a.apiKey, reconnect: false });
        const h = (await c.open(a.file, { side: "consumer" })) as VariablesHandle;
        const slot = h.slot("v");
        read = () => slot.readInto(buf);
      } else {
        const v = SharedFile.open(a.path, { readOnly: true }).variable("v");
        read = () => v.readInto(buf);
      }
      let sink = 0;
      for (let i = 0; i < 1e6; i++) sink += read();
      const best: number[] = [];
      for (let r = 0; r < 5; r++) {
        const t0 = now();
        for (let i = 0; i < a.n; i++) sink += read();
        best.push((now() - t0) / a.n);
      }
      await c?.close();
      out({ nsPerOp: Math.min(...best), sink: sink > 0 });
      break;
    }
    case "client-b2":
    case "raw-b2": {
      // Ping-pong over two variables in busy-poll mode. role "ping" measures round trips.
      const mine = a.role === "ping" ? "ping" : "pong";
      const theirs = a.role === "ping" ? "pong" : "ping";
      let write: (b: Uint8Array) => void;
      let wait: (last: number) => void;
      let version: () => number;
      let c: Awaited<ReturnType<typeof connect>> | null = null;
      if (a.mode === "client-b2") {
        c = await connect({ socketPath: a.socketPath, apiKey: a.apiKey, reconnect: false });
        const h = (await c.open(a.file, { side: "producer" })) as VariablesHandle;
        write = (b) => void h.writeRaw(mine, b);
        wait = (last) => void h.waitForChange(theirs, last, { mode: "spin", timeoutMs: 5000 });
        version = () => h.version(theirs);
      } else {
        const f = SharedFile.open(a.path);
        const w = f.variable(mine);
        const r = f.variable(theirs);
        write = (b) => void w.write(b);
        wait = (last) => void r.spinUntilChanged(last, 5000);
        version = () => r.version;
      }
      const msg = new Uint8Array(64);
      out({ ready: true });
      const lat: number[] = [];
      const total = a.n + 1000;
      if (a.role === "ping") {
        await new Promise((r) => setTimeout(r, 300));
        for (let i = 0; i < total; i++) {
          const last = version();
          const t0 = now();
          write(msg);
          wait(last);
          if (i >= 1000) lat.push((now() - t0) / 1000);
        }
        out({ p50: pct(lat, 50), p99: pct(lat, 99) });
      } else {
        let last = version();
        for (let i = 0; i < total; i++) {
          wait(last);
          last = version();
          write(msg);
        }
        out({ done: true });
      }
      await c?.close();
      break;
    }
    case "client-b4":
    case "raw-b4": {
      // role "producer" (single or batch) or "consumer"; consumer measures first→last message.
      const batch = a.role === "producer-batch";
      const msg = new Uint8Array(64);
      let c: Awaited<ReturnType<typeof connect>> | null = null;
      let stream;
      let h: StreamHandle | null = null;
      if (a.mode === "client-b4") {
        c = await connect({ socketPath: a.socketPath, apiKey: a.apiKey, reconnect: false });
        h = (await c.open(a.file, { side: a.role === "consumer" ? "consumer" : "producer" })) as StreamHandle;
      } else {
        stream = SharedFile.open(a.path, { readOnly: a.role === "consumer" }).stream;
      }
      if (a.role === "consumer") {
        const reader = h ? h.reader({ from: "latest" }) : stream!.reader({ from: "latest" });
        out({ ready: true });
        const buf = new Uint8Array(64);
        let got = 0;
        let t0 = 0;
        const outBatch = new Uint8Array(64 * 1024);
        const lengths = new Uint32Array(1024);
        while (got + reader.lost < a.n) {
          const k = reader.readBatch(outBatch, lengths, 1024);
          if (k > 0) {
            if (got === 0) t0 = now();
            got += k;
          } else if (reader.nextInto(buf) >= 0) {
            if (got === 0) t0 = now();
            got++;
          }
        }
        const secs = (now() - t0) / 1e9;
        out({ msgPerSec: got / secs, lost: reader.lost, got });
      } else {
        await new Promise((r) => setTimeout(r, 500));
        const t0 = now();
        if (batch) {
          // Packed batches: one native call per 256 messages (publishPacked / appendPacked).
          const B = 256;
          const data = new Uint8Array(B * 64).fill(3);
          const lens = new Uint32Array(B).fill(64);
          for (let i = 0; i < a.n; i += B) {
            if (h) h.publishPacked(data, lens);
            else stream!.appendPacked(data, lens);
          }
        } else if (h) {
          for (let i = 0; i < a.n; i++) h.publishRaw(msg);
        } else {
          for (let i = 0; i < a.n; i++) stream!.append(msg);
        }
        out({ msgPerSec: a.n / ((now() - t0) / 1e9) });
      }
      await c?.close();
      break;
    }
    default:
      throw new Error(`unknown mode ${a.mode}`);
  }
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(String((e as Error).stack ?? e));
  process.exit(1);
});
