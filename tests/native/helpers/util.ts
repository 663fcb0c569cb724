/** Shared helpers for the native multi-process tests. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../..", import.meta.url));

/** A private temporary directory (the worker uses one per tenant). */
export function tempDir(prefix = "commy-native-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(process.env.COMMY_TEST_SHM_DIR ?? tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** FNV-1a 32-bit over bytes [from, to). */
export function fnv1a(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A value whose first 4 bytes are the FNV-1a of the rest: any mix of two
 * values (a torn read) fails the check with overwhelming probability. */
export function checksummedValue(len: number, seed: number): Uint8Array {
  const v = new Uint8Array(len);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 4; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    v[i] = x & 0xff;
  }
  new DataView(v.buffer).setUint32(0, fnv1a(v, 4), true);
  return v;
}

export function checksumOk(v: Uint8Array, len: number): boolean {
  if (len < 8) return false;
  return new DataView(v.buffer, v.byteOffset).getUint32(0, true) === fnv1a(v, 4, len);
}

const live = new Set<ChildProcess>();

/** Spawns `node --import tsx tests/native/helpers/<script>` with args. Every
 * child is tracked until it exits; {@link killHelpers} (called from each
 * test file's afterEach) SIGKILLs the ones still running, and the helpers
 * exit by themselves when this process dies (orphan-guard.ts). */
export function spawnHelper(script: string, args: string[], env?: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "tests/native/helpers", script), ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env, COMMY_TEST_PARENT_PID: String(process.pid) },
  });
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/** SIGKILLs every helper still running and waits for them to exit. */
export async function killHelpers(): Promise<void> {
  const waits: Promise<void>[] = [];
  for (const c of live) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    waits.push(new Promise<void>((r) => c.once("exit", () => r())));
    c.kill("SIGKILL");
  }
  await Promise.all(waits);
  live.clear();
}

export interface HelperResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Last stdout line parsed as JSON (helpers print one result object). */
  json: unknown;
}

/** Waits for a helper to exit and collects its output. */
export function finished(child: ChildProcess): Promise<HelperResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      const last = stdout.trim().split("\n").pop() ?? "";
      let json: unknown = null;
      try {
        json = JSON.parse(last);
      } catch {
        json = null;
      }
      resolve({ code, signal, stdout, stderr, json });
    });
  });
}

/** Resolves once the child printed a line containing `marker`. */
export function printed(child: ChildProcess, marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const onData = (d: Buffer) => {
      buf += d.toString();
      if (buf.includes(marker)) {
        child.stdout?.off("data", onData);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.on("exit", (code) => reject(new Error(`helper exited (${code}) before printing ${marker}`)));
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
