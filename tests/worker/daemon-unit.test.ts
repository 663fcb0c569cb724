/**
 * The daemon's building blocks without a control plane: configuration precedence and
 * validation, the state machine's legal moves, log redaction, and close() semantics.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { loadConfig, WorkerConfigError } from "../../worker/src/config";
import { createLogger } from "../../worker/src/logger";
import { InvalidTransitionError, WorkerStateMachine } from "../../worker/src/state";
import { Worker, WorkerStartError } from "../../worker/src/worker";

describe("config", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "commy-cfg-"));
  const file = path.join(dir, "worker.json");
  writeFileSync(file, JSON.stringify({ controlPlaneUrl: "https://cp.example.com", httpPort: 1111, labels: { zone: "file" }, logLevel: "debug" }));

  it("file < env < flags, everything else defaulted", () => {
    const c = loadConfig(["--config", file, "--http-port", "3333", "--label", "rack=r1"], { COMMY_WORKER_HTTP_PORT: "2222", COMMY_WORKER_LOG_LEVEL: "warn", COMMY_WORKER_LABELS: "zone=env" });
    expect(c.httpPort).toBe(3333);
    expect(c.logLevel).toBe("warn");
    expect(c.labels).toEqual({ zone: "env", rack: "r1" });
    expect(c.shutdownGraceMs).toBe(10_000);
    expect(c.socketPath).toBe("/run/commy/worker.sock");
  });

  it("plain HTTP only to localhost; metrics only on loopback; unknown flags are errors", () => {
    expect(() => loadConfig(["--control-plane-url", "http://cp.example.com"], {})).toThrow(/must be https/);
    expect(loadConfig(["--control-plane-url", "http://127.0.0.1:3000"], {}).controlPlaneUrl).toBe("http://127.0.0.1:3000");
    expect(() => loadConfig(["--control-plane-url", "https://x.example", "--http-host", "0.0.0.0"], {})).toThrow(/loopback/);
    expect(() => loadConfig(["--control-plane-url", "https://x.example", "--http-prot", "1"], {})).toThrow(WorkerConfigError);
    try {
      loadConfig(["--http-port", "99999"], {});
    } catch (e) {
      // Every problem at once, not just the first.
      expect((e as WorkerConfigError).issues.length).toBeGreaterThanOrEqual(2);
    }
  });
});

describe("state machine", () => {
  it("allows the documented transitions only, and terminal states stay terminal", () => {
    const s = new WorkerStateMachine();
    const seen: string[] = [];
    s.on("change", (to, from) => seen.push(`${from}->${to}`));
    s.transition("running", "up");
    s.transition("draining", "drain");
    s.transition("running", "undrain");
    s.transition("stopped", "bye");
    expect(seen).toEqual(["starting->running", "running->draining", "draining->running", "running->stopped"]);
    expect(s.terminal).toBe(true);
    expect(() => s.transition("running", "again")).toThrow(InvalidTransitionError);
  });
});

describe("logger", () => {
  it("redacts API keys, tokens, credentials and authorization headers wherever they appear", async () => {
    let out = "";
    const sink = new Writable({ write: (c: Buffer, _e, cb) => ((out += c.toString()), cb()) });
    const log = createLogger("info", sink);
    log.info({ apiKey: "cmy_secret", req: { headers: { authorization: "Node cmn_x" } }, hello: { apiKey: "cmy_2" }, credential: "cmn_y", joinToken: "cmj_z" }, "x");
    await new Promise((r) => setTimeout(r, 20));
    expect(out).not.toMatch(/cmy_|cmn_|cmj_/);
    expect(out).toContain("[redacted]");
  });
});

describe("close()", () => {
  it("is idempotent and ends in a terminal state even when start failed", async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), "commy-close-"));
    let out = "";
    const log = createLogger("fatal", new Writable({ write: (c: Buffer, _e, cb) => ((out += c.toString()), cb()) }));
    const w = new Worker(loadConfig(["--control-plane-url", "http://127.0.0.1:9", "--state-dir", stateDir, "--socket", path.join(stateDir, "s.sock"), "--http-port", "0"], {}), log);
    // Not joined and no token: a clear start error, state failed.
    await expect(w.start()).rejects.toThrow(WorkerStartError);
    await expect(w.start().catch((e: Error) => e.message)).resolves.toMatch(/has not joined yet/);
    expect(w.state.state).toBe("failed");
    const a = w.close();
    const b = w.close();
    expect(a).toBe(b);
    await a;
    expect(w.state.state).toBe("failed");
  });
});
