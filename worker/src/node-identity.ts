/**
 * The node's identity on disk, and the host facts it reports when it registers.
 *
 * The credential file is the node's only secret: written 0600 inside a 0700 state directory,
 * atomically (write + fsync + rename), so a crash mid-write never leaves a half credential.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statfsSync, writeSync, chmodSync } from "node:fs";
import { readlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import type { Capabilities } from "../../src/server/contracts/worker";

export const StoredIdentitySchema = z.object({
  nodeId: z.string(),
  tenantId: z.string(),
  name: z.string(),
  credential: z.string(),
  controlPlaneUrl: z.string(),
  joinedAt: z.string(),
});
export type StoredIdentity = z.infer<typeof StoredIdentitySchema>;

export function identityPath(stateDir: string): string {
  return path.join(stateDir, "node.json");
}

/** Creates the state directory (0700) if needed. */
export function ensureStateDir(stateDir: string): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  chmodSync(stateDir, 0o700);
}

/** The stored identity, or null when the node has not joined yet. Throws on a corrupt file. */
export function loadIdentity(stateDir: string): StoredIdentity | null {
  const file = identityPath(stateDir);
  if (!existsSync(file)) return null;
  return StoredIdentitySchema.parse(JSON.parse(readFileSync(file, "utf8")));
}

export function saveIdentity(stateDir: string, identity: StoredIdentity): void {
  ensureStateDir(stateDir);
  const file = identityPath(stateDir);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, JSON.stringify(identity, null, 2));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

function readTrim(file: string): string {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return "";
  }
}

/** Facts about this host used by the control plane to decide locality (same host ⇒ shared memory). */
export function hostCapabilities(): Capabilities {
  let shmBytes = 0;
  try {
    const s = statfsSync("/dev/shm");
    shmBytes = Number(s.bavail) * Number(s.bsize);
  } catch {
    /* no /dev/shm (not Linux): report 0 */
  }
  let ipcNamespace = "";
  try {
    // "ipc:[4026531839]": the inode identifies the namespace.
    ipcNamespace = /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/ipc"))?.[1] ?? "";
  } catch {
    /* not Linux */
  }
  return {
    shmBytes,
    ipcNamespace,
    bootId: readTrim("/proc/sys/kernel/random/boot_id"),
    platform: process.platform,
    arch: process.arch,
    cpus: os.cpus().length,
  };
}
