/**
 * commy-worker entry point. The only place that reads argv/env (through loadConfig) and handles
 * signals.
 *
 *   npx tsx worker/main.ts --control-plane-url https://commy.example.com --join-token cmj_...
 *
 * Exit codes: 0 stopped cleanly; 1 failed (start error, close error or timeout); 2 bad
 * configuration; 3 the node was revoked (systemd must not restart it: RestartPreventExitStatus=3).
 */
import { loadConfig, WorkerConfigError } from "./src/config";
import { createLogger } from "./src/logger";
import { Worker, WorkerCloseTimeoutError } from "./src/worker";

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig(process.argv.slice(2));
  } catch (e) {
    if (e instanceof WorkerConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const log = createLogger(config.logLevel);
  const worker = new Worker(config, log);
  let exitCode = 0;

  const stop = (why: string, code: number) => {
    exitCode = Math.max(exitCode, code);
    worker
      .close(why, code !== 0)
      .catch((e: unknown) => {
        log.error({ err: (e as Error).message, timeout: e instanceof WorkerCloseTimeoutError }, "worker did not stop cleanly");
        exitCode = 1;
      })
      .finally(() => {
        log.flush();
        // Give pino's async destination a moment, then leave even if something keeps the loop alive.
        setTimeout(() => process.exit(exitCode), 100).unref();
      });
  };

  let signals = 0;
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.on(sig, () => {
      signals++;
      if (signals > 1) {
        log.warn({ signal: sig }, "second signal: exiting now");
        process.exit(1);
      }
      log.info({ signal: sig, graceMs: config.shutdownGraceMs }, "stopping: no new clients, waiting for attached clients to finish");
      stop(`received ${sig}`, 0);
    });
  }
  worker.on("revoked", () => stop("node revoked by the control plane", 3));

  try {
    await worker.start();
  } catch (e) {
    log.fatal({ err: (e as Error).message }, "worker failed to start");
    log.flush();
    return 1;
  }
  log.info({ socket: config.socketPath, httpPort: worker.httpPort, nodeId: worker.nodeId }, "worker ready");
  // Tests and supervisors read this single line from stdout to learn the ports.
  process.stdout.write(`${JSON.stringify({ ready: true, httpPort: worker.httpPort, nodeId: worker.nodeId, socket: config.socketPath })}\n`);
  return -1; // keep running until a signal
}

main().then(
  (code) => {
    if (code >= 0) setTimeout(() => process.exit(code), 50);
  },
  (e: unknown) => {
    process.stderr.write(`commy-worker: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
