/**
 * Playwright global setup: the whole system for end-to-end tests, on private 127.0.0.1 ports.
 *
 *  1. PostgreSQL (temp dir, fsync off) and Redis (no persistence); migrations applied.
 *  2. The local OIDC provider in test mode (any `…@e2e.test` / `e2e` user signs in).
 *  3. `next build` unless .next already holds a build of the current sources, then
 *     the app server (`server.ts`, as `npm start` runs it) with the environment pointing at all of the above.
 *
 * Workers inherit: E2E_BASE_URL, E2E_OIDC_ISSUER, DATABASE_URL, REDIS_URL, OIDC_NAME.
 * The returned teardown stops everything by PID (also when a step here fails).
 * Logs: .tmp/e2e/{postgres,redis,oidc-provider,next-build,next}.log
 * COMMY_TEST_KEEP_DATA=1 keeps the temp data dir.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { ensureNextBuild, startAppServer, startOidcProvider } from "../../scripts/lib/app";
import { freePort } from "../../scripts/lib/process";
import { makeTestDir, migrateDatabase, projectRoot, startPostgres, startRedis } from "../../scripts/lib/services";

export const E2E_OIDC_NAME = "Commy Local";

export default async function globalSetup(): Promise<() => Promise<void>> {
  const logDir = path.join(projectRoot, ".tmp", "e2e");
  mkdirSync(logDir, { recursive: true });
  const tmp = makeTestDir("commy-e2e-");
  const stops: Array<() => Promise<void>> = [];
  const teardown = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: Error) => console.error(`[e2e] teardown: ${err.message}`));
    if (process.env.COMMY_TEST_KEEP_DATA === "1") console.log(`[e2e] kept ${tmp.dir}`);
    else tmp.cleanup();
  };
  const t0 = Date.now();
  const step = (msg: string) => process.stdout.write(`[e2e] ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s  ${msg}\n`);

  try {
    const appPort = await freePort();
    const appUrl = `http://127.0.0.1:${appPort}`;
    const clientId = "commy-e2e";
    const clientSecret = randomBytes(24).toString("base64url");

    step("starting PostgreSQL, Redis and the OIDC provider");
    const [pg, redis, oidc] = await Promise.all([
      startPostgres({ dataDir: path.join(tmp.dir, "postgres"), ephemeral: true, logFile: path.join(logDir, "postgres.log") }).then(
        (s) => (stops.push(s.stop), s),
      ),
      startRedis({ dir: path.join(tmp.dir, "redis"), logFile: path.join(logDir, "redis.log") }).then((s) => (stops.push(s.stop), s)),
      startOidcProvider({
        clientId,
        clientSecret,
        redirectUris: [`${appUrl}/api/auth/callback/oidc`],
        testUsers: true,
        logFile: path.join(logDir, "oidc-provider.log"),
      }).then((s) => (stops.push(s.stop), s)),
    ]);
    await migrateDatabase(pg.url);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: pg.url,
      REDIS_URL: redis.url,
      NEXTAUTH_URL: appUrl,
      NEXTAUTH_SECRET: randomBytes(32).toString("base64url"),
      OIDC_ISSUER: oidc.url,
      OIDC_CLIENT_ID: clientId,
      OIDC_CLIENT_SECRET: clientSecret,
      OIDC_NAME: E2E_OIDC_NAME,
      // Sign-in only through the local provider, whatever the developer's shell has set.
      GITHUB_ID: "",
      GITHUB_SECRET: "",
      GOOGLE_ID: "",
      GOOGLE_SECRET: "",
      NEXT_TELEMETRY_DISABLED: "1",
    };

    const { built } = await ensureNextBuild({
      env,
      logFile: path.join(logDir, "next-build.log"),
      onStart: () => step("building the app (next build)"),
    });
    if (!built) step("reusing the existing build of these sources");

    step("starting the app");
    const app = await startAppServer({ port: appPort, env, logFile: path.join(logDir, "next.log") });
    stops.push(app.stop);

    process.env.E2E_BASE_URL = app.url;
    process.env.E2E_OIDC_ISSUER = oidc.url;
    process.env.DATABASE_URL = pg.url;
    process.env.REDIS_URL = redis.url;
    process.env.OIDC_NAME = E2E_OIDC_NAME;
    step(`app ${app.url}, OIDC ${oidc.url}`);
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
