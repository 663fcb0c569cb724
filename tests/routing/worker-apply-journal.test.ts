/**
 * The worker's apply journal (worker/src/apply-journal.ts): a crash between appending a remote
 * message to the ring and recording it as applied must neither append it twice nor lose it.
 * The crash is made exact here (a process that SIGKILLs itself right after the intent or right
 * after the append), which the whole-worker fault test can only hit by chance.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, truncateSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SharedFile } from "../../native/lib/index";
import { ApplyJournal, replayJournal, resolveIntent, type JournalEntry } from "../../worker/src/apply-journal";

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "apply-crash-node.ts");

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "commy-journal-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function ring(capacity = 1024): SharedFile {
  return SharedFile.create(path.join(dir, "main.shf"), { kind: "stream", capacity, messageMaxSize: 64, overwrite: true });
}

const all = (f: SharedFile) => {
  const r = f.stream.reader({ from: "earliest", register: false });
  const out: string[] = [];
  for (let m = r.next(); m; m = r.next()) out.push(Buffer.from(m.data).toString());
  r.close();
  return out;
};

describe("apply journal: format", () => {
  it("reads back what was written, stops at a torn tail, ignores other generations", () => {
    const file = path.join(dir, "j.journal");
    const j = ApplyJournal.open(file, 7);
    j.intent("o/e", 1, 10, Buffer.from("hello"));
    j.applied("o/e", 1, 10);
    j.stamp("slot", { wallMs: 1700000000000, counter: 3, nodeId: "n1" }, { key: "o/e", seq: 2 });
    j.close();
    const again = ApplyJournal.open(file, 7);
    expect(again.entries.map((e) => e.type)).toEqual(["intent", "applied", "stamp", "applied"]);
    expect(Buffer.from((again.entries[0] as JournalEntry & { type: "intent" }).payload).toString()).toBe("hello");
    expect(again.entries[2]).toEqual({ type: "stamp", name: "slot", stamp: { wallMs: 1700000000000, counter: 3, nodeId: "n1" } });
    const end = 16 + again.size; // header + entries
    again.close();
    // A write cut short (the process died mid-entry) loses only that entry.
    truncateSync(file, end - 3);
    expect(ApplyJournal.open(file, 7).entries.map((e) => e.type)).toEqual(["intent", "applied", "stamp"]);
    // The state file names another generation: the journal's entries are already in it.
    expect(ApplyJournal.open(file, 8).entries).toEqual([]);
  });

  it("reset (compaction) starts over under the next generation; stale bytes behind are ignored", () => {
    const file = path.join(dir, "j.journal");
    const j = ApplyJournal.open(file, 1);
    for (let i = 1; i <= 50; i++) j.applied("o/e", i, i);
    j.reset(2);
    j.applied("o/e", 51, 51);
    j.close();
    expect(ApplyJournal.open(file, 2).entries).toEqual([{ type: "applied", key: "o/e", seq: 51, ringSeq: 51 }]);
    expect(statSync(file).size).toBeLessThanOrEqual(1 << 20);
  });
});

describe("apply journal: an intent without its completion is decided from the ring", () => {
  it("append happened, local writes around it: found, so it is not appended again", () => {
    const f = ring();
    f.stream.append(Buffer.from("local-a"));
    const h = f.stream.head;
    f.stream.append(Buffer.from("local-b")); // a co-located producer got the lock first
    f.stream.append(Buffer.from("remote-x"));
    f.stream.append(Buffer.from("local-c")); // written while the worker was down
    expect(resolveIntent(f.stream, { head: h, payload: Buffer.from("remote-x") })).toEqual({ appended: true, ringSeq: h + 1 });
    f.close();
  });

  it("append did not happen: not found, so the record is applied when delivered again", () => {
    const f = ring();
    const h = f.stream.head;
    f.stream.append(Buffer.from("local-b"));
    expect(resolveIntent(f.stream, { head: h, payload: Buffer.from("remote-x") })).toEqual({ appended: false, lapped: false });
    f.close();
  });

  it("the ring overwrote part of [H, head): reported as lapped (treated as not appended)", () => {
    const f = ring(4);
    const h = f.stream.head;
    for (let i = 0; i < 10; i++) f.stream.append(Buffer.from(`local-${i}`));
    expect(resolveIntent(f.stream, { head: h, payload: Buffer.from("remote-x") })).toEqual({ appended: false, lapped: true });
    f.close();
  });

  it("replay: completed records go into the window, the open intent is decided, own ring seqs reported", () => {
    const f = ring();
    const j = ApplyJournal.open(path.join(dir, "j.journal"), 1);
    j.intent("o/e", 1, 0, Buffer.from("r1"));
    f.stream.append(Buffer.from("r1"));
    j.applied("o/e", 1, 0);
    j.intent("o/e", 2, 1, Buffer.from("r2"));
    f.stream.append(Buffer.from("r2")); // then SIGKILL: no completion
    j.close();
    const marked: number[] = [];
    const own: number[] = [];
    const r = replayJournal(ApplyJournal.open(path.join(dir, "j.journal"), 1).entries, {
      markApplied: (_k, s) => marked.push(s),
      ownRingSeq: (s) => own.push(s),
      stamp: () => undefined,
      stream: f.stream,
    });
    expect(r?.resolution).toEqual({ appended: true, ringSeq: 1 });
    expect(marked).toEqual([1, 2]);
    expect(own).toEqual([0, 1]);
    f.close();
  });
});

interface Life {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: { recovered: unknown; applied: number; skipped: number } | null;
  stderr: string;
}

/**
 * One life of the applying process. `killAfterMs`: SIGKILL that long after it said it recovered
 * (so the kill lands in the apply loop, not in the start-up).
 */
function life(mapping: string, total: number, opts: { crash?: { at: number; where: "after-intent" | "after-append" }; killAfterMs?: number; slow?: boolean } = {}): Promise<Life> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", FIXTURE], {
      env: { ...process.env, COMMY_APPLY_CRASH: JSON.stringify({ mapping, dir, total, compactEvery: 16, crash: opts.crash, slow: opts.slow }) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (opts.killAfterMs !== undefined && !timer && stdout.startsWith("ready\n")) timer = setTimeout(() => child.kill("SIGKILL"), opts.killAfterMs);
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split("\n").pop();
      resolve({ code, signal, out: line?.startsWith("{") ? (JSON.parse(line) as Life["out"]) : null, stderr });
    });
  });
}

describe("apply journal: SIGKILL at the exact crash points, over several lives", () => {
  it("every remote message ends in the ring exactly once, in order, with local writes between the lives", async () => {
    const f = ring();
    const total = 60;
    const p = path.join(dir, "main.shf");
    // Each life resumes where the previous one died (record `at` is applied again only when its
    // append had not happened), so each crash point below is reached.
    const plan: { at: number; where: "after-intent" | "after-append" }[] = [
      { at: 3, where: "after-append" }, // the case CI hit: appended, completion never written
      { at: 5, where: "after-intent" }, // dying before the append
      { at: 5, where: "after-append" }, // the same record, re-applied, now dying after it
      { at: 6, where: "after-append" }, // first record of a life
      { at: 15, where: "after-append" }, // the 16th record: its compaction never ran
      { at: 16, where: "after-append" }, // first record after a compaction
      { at: 31, where: "after-intent" },
      { at: 40, where: "after-append" },
    ];
    let local = 0;
    for (const crash of plan) {
      const l = await life(p, total, { crash });
      expect(l.signal, `${JSON.stringify(crash)} ${l.stderr}`).toBe("SIGKILL");
      // A co-located producer keeps writing while the worker is down.
      for (let k = 0; k < 3; k++) f.stream.append(Buffer.from(`local-${local++}`));
    }
    const last = await life(p, total);
    expect(last.code, last.stderr).toBe(0);
    const remote = all(f).filter((m) => m.startsWith("remote-"));
    expect(remote).toEqual(Array.from({ length: total }, (_, i) => `remote-${i}`));
    expect(all(f).filter((m) => m.startsWith("local-"))).toHaveLength(local);
    f.close();
  });

  it("SIGKILL at random moments (12 lives): still exactly once", async () => {
    const f = ring(8192);
    const total = 3000;
    const p = path.join(dir, "main.shf");
    let killed = 0;
    for (let i = 0; i < 12; i++) {
      const l = await life(p, total, { killAfterMs: (i * 7) % 23, slow: true });
      if (l.signal === "SIGKILL") killed++;
      else expect(l.code, l.stderr).toBe(0);
      f.stream.append(Buffer.from(`local-${i}`));
    }
    const last = await life(p, total);
    expect(last.code, last.stderr).toBe(0);
    expect(killed).toBeGreaterThan(0);
    expect(all(f).filter((m) => m.startsWith("remote-"))).toEqual(Array.from({ length: total }, (_, i) => `remote-${i}`));
    f.close();
  });
});
