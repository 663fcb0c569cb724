/**
 * Prisma CLI configuration.
 *
 * Commy runs Prisma 6 with the JS engine so that `migrate deploy`/`migrate dev` work offline:
 * migrations run in the Wasm schema engine bundled in the npm package, over the pg driver
 * adapter, and nothing is downloaded. Why and how is in the README ("Database migrations").
 */
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import type { PrismaConfig } from "prisma";
import { PrismaPg } from "@prisma/adapter-pg";
import { CatalogFriendlyClient, pgConfigFromUrl } from "./src/server/db-config";

// Prisma does not read .env for config files: load it here (values already set win).
for (const file of [".env.local", ".env"]) {
  if (!existsSync(file)) continue;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/.exec(line);
    if (m && m[1] && process.env[m[1]] === undefined) process.env[m[1]] = m[2]!.replace(/^"(.*)"$/, "$1");
  }
}
process.env.CHECKPOINT_DISABLE ??= "1";
// `generate` never connects, but the CLI only sees `engineType = "client"` (and so skips the
// query-engine download) when the schema's `url = env("DATABASE_URL")` resolves.
if (process.argv.includes("generate")) process.env.DATABASE_URL ??= "postgresql://generate-only@localhost/none";

// The Wasm engine leaves long timers behind and would keep the CLI alive for ~60 s after a
// migration has finished. Unref timers longer than a few seconds: they never do useful work
// once the command is done, and short ones (query timeouts) keep their normal behaviour.
const setTimeoutOriginal = globalThis.setTimeout;
globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...rest: unknown[]) => {
  const t = setTimeoutOriginal(fn, ms, ...rest);
  if ((ms ?? 0) > 5_000) t.unref?.();
  return t;
}) as typeof setTimeout;

/**
 * The pg adapter (6.19.3) runs a migration by splitting its SQL at every `;`, also inside comments
 * and dollar-quoted function bodies, so a migration that creates a PL/pgSQL function (or has a
 * `;` in a comment) fails. Each migration is sent whole instead, as one simple-protocol query:
 * PostgreSQL parses it itself and runs it as one implicit transaction (all or nothing). Errors
 * are converted as the adapter converts them.
 */
class WholeScriptPg extends PrismaPg {
  override async connect() {
    return wholeScripts(await super.connect());
  }

  override async connectToShadowDb() {
    return wholeScripts(await super.connectToShadowDb());
  }
}

function wholeScripts<A extends Awaited<ReturnType<PrismaPg["connect"]>>>(adapter: A): A {
  const queryable = adapter as unknown as { client: { query(sql: string): Promise<unknown> }; onError(e: unknown): never };
  adapter.executeScript = async (script: string) => {
    try {
      await queryable.client.query(script);
    } catch (e) {
      queryable.onError(e);
    }
  };
  return adapter;
}

export default {
  experimental: { adapter: true },
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations"), seed: "node --import tsx prisma/seed.ts" },
  engine: "js",
  async adapter() {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error("DATABASE_URL is not set (see README: Configuration)");
    return new WholeScriptPg(pgConfigFromUrl(url, { Client: CatalogFriendlyClient, idleTimeoutMillis: 200 }));
  },
} satisfies PrismaConfig;
