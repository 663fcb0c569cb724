/**
 * The application processes, for `scripts/up` and the Playwright global setup: the local OIDC
 * provider, the Next.js production build and the app server (`server.ts`). Same rules as services.ts: 127.0.0.1,
 * free ports, stop by PID.
 */
import { createHash } from "node:crypto";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { freePort, isAlive, readPidFile, run, spawnService, stopPid, waitFor, withParentDeathSignal, type RunningService } from "./process";
import { projectRoot } from "./services";

const tsxImport = ["--import", "tsx"];

// ---------------------------------------------------------------------------------------------
// Local OIDC provider
// ---------------------------------------------------------------------------------------------

export interface OidcProviderOptions {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** Accept any `…@e2e.test` / `e2e` user (tests only). */
  testUsers?: boolean;
  preferredPort?: number;
  logFile: string;
  detached?: boolean;
}

export interface OidcProviderService extends RunningService {
  /** The issuer URL (what OIDC_ISSUER must be). */
  url: string;
  port: number;
}

/** Starts dev/oidc-provider/server.ts and waits for its discovery document. */
export async function startOidcProvider(opts: OidcProviderOptions): Promise<OidcProviderService> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort(attempt === 0 ? opts.preferredPort : undefined);
    const issuer = `http://127.0.0.1:${port}`;
    const args = [
      ...tsxImport,
      path.join(projectRoot, "dev", "oidc-provider", "server.ts"),
      "--port", String(port),
      "--client-id", opts.clientId,
      "--client-secret", opts.clientSecret,
      ...opts.redirectUris.flatMap((u) => ["--redirect-uri", u]),
      ...(opts.testUsers ? ["--test-users"] : []),
    ];
    const child = spawnService(process.execPath, args, { logFile: opts.logFile, cwd: projectRoot, detached: opts.detached });
    try {
      await waitFor("OIDC provider", () => httpOk(`${issuer}/.well-known/openid-configuration`), {
        child,
        logFile: opts.logFile,
        timeoutMs: 30_000,
      });
    } catch (err) {
      lastError = err;
      await stopPid(child.pid ?? -1, { child });
      continue;
    }
    const pid = child.pid!;
    return { url: issuer, port, pid, stop: () => stopPid(pid, { child }) };
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** True when the server answered anything at all over HTTP. */
async function httpAnswers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Next.js
// ---------------------------------------------------------------------------------------------

const nextBin = () => path.join(projectRoot, "node_modules", ".bin", "next");
/** Where `next build` writes (next.config.js: NEXT_DIST_DIR, default .next). */
const distDir = () => path.join(projectRoot, process.env.NEXT_DIST_DIR || ".next");
const stampFile = () => path.join(distDir(), "commy-build-stamp");

/** Paths that cannot change what `next build` produces (tests, tooling, docs). */
const NOT_IN_BUILD = [
  "tests", "scripts", "dev", "docs", "bench", ".ci", "native/core-tests", "*.md", "playwright.config.ts", "vitest.config.ts",
  // The app server and its direct-route plumbing: run from source next to the build, not part of it.
  "server.ts", "src/server/http",
];

/**
 * A fingerprint of the sources a build is made from: the content of every file git knows about
 * or would add (tracked + untracked, not ignored) in the working tree, except NOT_IN_BUILD.
 * Editing a test does not invalidate the build; editing the app, its config or the lockfile
 * does. Undefined outside a git checkout (then we always build).
 */
export function sourceStamp(): string | undefined {
  try {
    const pathspecs = [".", ...NOT_IN_BUILD.map((p) => `:(exclude)${p}`)];
    const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ...pathspecs], {
      cwd: projectRoot,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      stdio: ["ignore", "pipe", "ignore"],
    })
      .split("\0")
      .filter(Boolean);
    const h = createHash("sha256");
    for (const file of [...new Set(files)].sort()) {
      h.update(`${file}\0`);
      try {
        h.update(readFileSync(path.join(projectRoot, file)));
      } catch {
        h.update("(missing)"); // deleted in the working tree, or a directory (submodule)
      }
      h.update("\0");
    }
    return h.digest("hex");
  } catch {
    return undefined;
  }
}

/**
 * Runs `next build` unless `.next` already holds a build of exactly this source tree.
 * Build output goes to `logFile` (or the terminal with `inherit`).
 */
export async function ensureNextBuild(opts: {
  env: NodeJS.ProcessEnv;
  logFile?: string;
  inherit?: boolean;
  force?: boolean;
  onStart?: () => void;
}): Promise<{ built: boolean }> {
  // Two of our builds in one checkout at once (scripts/up and scripts/test) would corrupt .next:
  // take turns. The second one then usually finds the first one's build fresh and skips.
  return withBuildLock(() => buildUnlessFresh(opts));
}

async function withBuildLock<T>(fn: () => Promise<T>): Promise<T> {
  const lock = path.join(projectRoot, ".tmp", "next-build.lock");
  mkdirSync(path.dirname(lock), { recursive: true });
  let announced = false;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = readPidFile(lock);
      if (!holder || !isAlive(holder)) {
        rmSync(lock, { force: true }); // left by a build that was killed
        continue;
      }
      if (!announced) console.log(`[commy] waiting for another next build (pid ${holder}) to finish`);
      announced = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

async function buildUnlessFresh(opts: Parameters<typeof ensureNextBuild>[0]): Promise<{ built: boolean }> {
  const stamp = sourceStamp();
  const buildId = path.join(distDir(), "BUILD_ID");
  if (!opts.force && stamp && existsSync(buildId) && existsSync(stampFile()) && readFileSync(stampFile(), "utf8") === stamp) {
    return { built: false };
  }
  opts.onStart?.();
  rmSync(stampFile(), { force: true });
  const env = { ...opts.env, NEXT_TELEMETRY_DISABLED: "1" };
  try {
    const out = await run(process.execPath, [nextBin(), "build"], { cwd: projectRoot, env, inherit: opts.inherit });
    if (opts.logFile) writeFileSync(opts.logFile, out);
  } catch (err) {
    if (!opts.logFile) throw err;
    const output = String((err as Error).message);
    writeFileSync(opts.logFile, output);
    // The useful part of a failed build is its error list: show that, point at the rest.
    const lines = output.replace(/\x1b\[[0-9;]*m/g, "").split("\n");
    const firstError = lines.findIndex((l) => /error|failed/i.test(l) && !l.startsWith("/"));
    const excerpt = lines.slice(Math.max(0, firstError), Math.max(0, firstError) + 40).join("\n");
    throw new Error(`next build failed (full output: ${path.relative(projectRoot, opts.logFile)}):\n${excerpt}`);
  }
  if (stamp) {
    mkdirSync(path.dirname(stampFile()), { recursive: true });
    writeFileSync(stampFile(), stamp);
  }
  return { built: true };
}

export interface AppServerService extends RunningService {
  port: number;
}

/**
 * The app (`server.ts`: the REST and worker APIs served directly, everything else by Next.js)
 * on 127.0.0.1:port. A production build must exist. Waits until it answers HTTP.
 */
export async function startAppServer(opts: {
  port: number;
  env: NodeJS.ProcessEnv;
  logFile?: string;
  /** Output to the terminal instead of a log file. */
  inherit?: boolean;
  detached?: boolean;
  /** Extra flags for node (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
}): Promise<AppServerService> {
  const args = [...(opts.nodeArgs ?? []), ...tsxImport, path.join(projectRoot, "server.ts"), "--port", String(opts.port), "--hostname", "127.0.0.1"];
  const env = { ...opts.env, NEXT_TELEMETRY_DISABLED: "1", PORT: String(opts.port), HOSTNAME: "127.0.0.1" };
  const child = opts.inherit
    ? spawn(...withParentDeathSignal(process.execPath, args, "SIGTERM"), { cwd: projectRoot, env, stdio: "inherit", detached: opts.detached })
    : spawnService(process.execPath, args, { logFile: opts.logFile!, cwd: projectRoot, env, detached: opts.detached });
  const url = `http://127.0.0.1:${opts.port}`;
  try {
    await waitFor("the app server", () => httpAnswers(`${url}/api/auth/providers`), {
      child,
      logFile: opts.logFile,
      timeoutMs: 90_000,
      intervalMs: 200,
    });
  } catch (err) {
    await stopPid(child.pid ?? -1, { child });
    throw err;
  }
  const pid = child.pid!;
  return { url, port: opts.port, pid, stop: () => stopPid(pid, { child, timeoutMs: 10_000 }) };
}
