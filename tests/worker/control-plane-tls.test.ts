/**
 * Production transport to the control plane: HTTPS trusting a private CA given by config
 * (`caFile`), and refusing a server whose certificate that CA did not sign.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlPlaneClient, ControlPlaneError } from "../../worker/src/control-plane";

const dir = mkdtempSync(path.join(os.tmpdir(), "commy-tls-"));
let server: https.Server;
let url = "";

beforeAll(async () => {
  const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  // A private CA and a server certificate for 127.0.0.1 signed by it.
  run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=commy test CA"]);
  run(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1"]);
  writeFileSync(path.join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  run(["x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "srv.pem", "-days", "1", "-extfile", "ext.cnf"]);
  server = https.createServer({ key: readFileSync(path.join(dir, "srv.key")), cert: readFileSync(path.join(dir, "srv.pem")) }, (req, res) => {
    res.writeHead(req.headers.authorization === "Node cmn_test" ? 200 : 401, { "content-type": "application/json", etag: '"s3"' });
    res.end(JSON.stringify(req.headers.authorization === "Node cmn_test" ? { version: 3, settings: {} } : { error: { code: "NODE_CREDENTIAL_INVALID", message: "no" } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("control plane over HTTPS", () => {
  it("trusts the configured private CA", async () => {
    const c = new ControlPlaneClient({ baseUrl: url, ca: readFileSync(path.join(dir, "ca.pem")), timeoutMs: 5000 });
    c.setCredential("cmn_test");
    const s = await c.settings(null);
    expect(s?.version).toBe(3);
    expect(s?.settings.heartbeatIntervalMs).toBe(5000); // defaults filled by the shared contract
    c.close();
  });

  it("refuses a server the CA did not sign, and reports a rejected credential as such", async () => {
    const untrusted = new ControlPlaneClient({ baseUrl: url, timeoutMs: 5000 });
    untrusted.setCredential("cmn_test");
    const e = await untrusted.settings(null).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ControlPlaneError);
    expect((e as ControlPlaneError).status).toBe(0);
    expect((e as ControlPlaneError).message).toMatch(/certificate/i);
    untrusted.close();

    const wrong = new ControlPlaneClient({ baseUrl: url, ca: readFileSync(path.join(dir, "ca.pem")), timeoutMs: 5000 });
    wrong.setCredential("cmn_other");
    const r = await wrong.settings(null).catch((x: unknown) => x);
    expect((r as ControlPlaneError).nodeRejected).toBe(true);
    wrong.close();
  });
});
