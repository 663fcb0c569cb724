/**
 * File-descriptor passing over Unix sockets (SCM_RIGHTS), which Node's `net` module cannot do.
 *
 * Generic: no protocol, no knowledge of its users. Built as its own small addon
 * (`commy_fd_passing.node`) so it shares nothing with the shared-file module.
 *
 * ```ts
 * const fd = connectUnix("/run/app.sock");
 * sendWithFds(fd, Buffer.from("hi"), [fileFd]);
 * const { data, fds } = await recvWithFds(fd, { maxBytes: 4096, maxFds: 1, timeoutMs: 1000 });
 * closeFd(fd);
 * ```
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

interface FdPassingAddon {
  connectUnix(path: string): number;
  sendWithFds(fd: number, data: Uint8Array, fds: number[], timeoutMs: number): number;
  recvWithFds(fd: number, maxBytes: number, maxFds: number, timeoutMs: number): Promise<{ data: Buffer; fds: number[]; controlTruncated: boolean }>;
  closeFd(fd: number): void;
  peerCredentials(fd: number): { pid: number; uid: number; gid: number };
}

const addonPath = join(dirname(fileURLToPath(import.meta.url)), "..", "build", "Release", "commy_fd_passing.node");
let loaded: FdPassingAddon | null = null;
function addon(): FdPassingAddon {
  if (!loaded) {
    if (!existsSync(addonPath)) throw new Error(`fd-passing addon not built (${addonPath} missing): run \`npm run build:native\``);
    loaded = createRequire(import.meta.url)(addonPath) as FdPassingAddon;
  }
  return loaded;
}

/** An errno failure; `code` is the errno name ("ECONNREFUSED", "ETIMEDOUT", ...). */
export interface FdPassingError extends Error {
  code: string;
  errno?: number;
}

/** Connects a blocking, close-on-exec Unix stream socket to `path`; returns its fd (caller closes it). */
export function connectUnix(path: string): number {
  return addon().connectUnix(path);
}

/**
 * Sends `data` with `fds` attached (SCM_RIGHTS, at most 16). Works on non-blocking sockets (waits
 * up to `timeoutMs` for room). The fds stay open in the sender: close them when done.
 */
export function sendWithFds(socketFd: number, data: Uint8Array, fds: number[], timeoutMs = 5000): number {
  return addon().sendWithFds(socketFd, data, fds, timeoutMs);
}

/**
 * Receives up to `maxBytes` and up to `maxFds` descriptors (extra ones are closed, never leaked)
 * in one recvmsg, waiting up to `timeoutMs` off the JS thread. `data.length === 0` means the peer
 * closed. Received fds are close-on-exec and owned by the caller.
 */
export function recvWithFds(socketFd: number, opts: { maxBytes: number; maxFds: number; timeoutMs: number }): Promise<{ data: Buffer; fds: number[] }> {
  return addon().recvWithFds(socketFd, opts.maxBytes, opts.maxFds, opts.timeoutMs);
}

/** Closes a descriptor. */
export function closeFd(fd: number): void {
  addon().closeFd(fd);
}

/**
 * The pid/uid/gid of the process at the other end of a connected Unix socket, from the kernel
 * (SO_PEERCRED, as of connect): unlike anything the peer says about itself, it cannot be forged.
 */
export function peerCredentials(socketFd: number): { pid: number; uid: number; gid: number } {
  return addon().peerCredentials(socketFd);
}
