import pg from "pg";

/**
 * PostgreSQL connection settings for Prisma's driver adapter, shared by the app and the
 * migration CLI (prisma.config.ts).
 *
 * The adapter is given host/port/user/password/database as separate fields, never the
 * connection string: with a string, Prisma 6's shadow-database logic can end up pointing at
 * the real database (a second `migrate dev` then fails, and a reset would hit real data).
 */
export function pgConfigFromUrl(url: string, overrides: Partial<pg.PoolConfig> = {}): pg.PoolConfig {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error("DATABASE_URL is not a valid URL (expected postgresql://user:pass@host:port/db)");
  }
  if (parsed.protocol !== "postgresql:" && parsed.protocol !== "postgres:") {
    throw new Error(`DATABASE_URL must use postgresql://, got ${parsed.protocol}`);
  }
  const host = parsed.searchParams.get("host") ?? decodeURIComponent(parsed.hostname || "localhost");
  return {
    host,
    port: parsed.port ? Number(parsed.port) : 5432,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, "")),
    ...overrides,
  };
}

/** pg type ids that Prisma 6's adapter does not map (prisma/prisma#27403): `name` and `"char"`. */
const NAME_OID = 19;
const CHAR_OID = 18;
const TEXT_OID = 25;

/**
 * A pg Client that reports `name`/`"char"` columns as `text`. The migration engine reads
 * pg_catalog, whose columns are of those types, and the adapter would otherwise fail with
 * "Column type 'name' could not be deserialized". Values arrive as strings either way.
 */
export class CatalogFriendlyClient extends pg.Client {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const last = args[args.length - 1];
    if (typeof last === "function") {
      // pg.Pool#query calls clients callback-style: remap before handing the result on.
      args[args.length - 1] = (err: Error | null, r: pg.QueryResult | undefined) => last(err, remapCatalogTypes(r));
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    const result = (super.query as (...a: unknown[]) => Promise<pg.QueryResult>)(...args);
    return Promise.resolve(result).then(remapCatalogTypes);
  }
}

function remapCatalogTypes<T extends pg.QueryResult | undefined>(r: T): T {
  for (const field of r?.fields ?? []) {
    if (field.dataTypeID === NAME_OID || field.dataTypeID === CHAR_OID) field.dataTypeID = TEXT_OID;
  }
  return r;
}
