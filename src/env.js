// @ts-check
/**
 * The control plane's environment, validated once with zod (create-t3-app style).
 *
 * `next.config.js` imports this file, so `next build` and `next start`/`next dev` fail at once
 * with a readable list of problems when the environment is wrong, instead of a request failing
 * later. Server code imports `env` from here rather than reading `process.env`.
 *
 * Build-time handling: a CI build has no database and no secrets. `next build` with
 * `SKIP_ENV_VALIDATION=1` skips validation entirely (values are then read as-is); without it,
 * validation runs during the build too. Runtime (`next start`) always validates unless the
 * variable is set.
 *
 * Sign-in providers are enabled by their variables: a provider is on when all of its
 * variables are set, off when none are, and a partial set is an error (a typo in one variable
 * should not silently remove a sign-in button).
 */
import { z } from "zod";

const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === "" ? undefined : v));

const serverSchema = z
  .object({
    NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
    DATABASE_URL: z
      .string()
      .url()
      .refine((u) => u.startsWith("postgresql://") || u.startsWith("postgres://"), {
        message: "must be a postgresql:// URL",
      }),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    /** The public URL of the app (next-auth callbacks, invitation links). */
    NEXTAUTH_URL: z.string().url().optional(),
    /** Signs session cookies and CSRF tokens. Required in production. */
    NEXTAUTH_SECRET: optionalString,
    /** Generic OIDC provider (the local dev provider uses these too). */
    OIDC_ISSUER: optionalString.pipe(z.string().url().optional()),
    OIDC_CLIENT_ID: optionalString,
    OIDC_CLIENT_SECRET: optionalString,
    OIDC_NAME: z.string().trim().min(1).default("Single sign-on"),
    GITHUB_ID: optionalString,
    GITHUB_SECRET: optionalString,
    GOOGLE_ID: optionalString,
    GOOGLE_SECRET: optionalString,
    /**
     * Redis for cross-node routing, with a user allowed to manage ACL users (the default user of a
     * local Redis): `redis://[user:pass@]host:port` or `rediss://…`. Unset: no routing; workers serve
     * co-located clients only and the data API answers ROUTING_UNAVAILABLE.
     */
    REDIS_URL: optionalString.pipe(
      z
        .string()
        .url()
        .refine((u) => u.startsWith("redis://") || u.startsWith("rediss://"), { message: "must be a redis:// or rediss:// URL" })
        .optional(),
    ),
    /** REDIS_URL is one seed node of a Redis Cluster. */
    REDIS_CLUSTER: z.enum(["0", "1", "true", "false"]).default("0").transform((v) => v === "1" || v === "true"),
    /** PEM file of the CA that signs the Redis server's certificate (rediss:// only). */
    REDIS_TLS_CA_FILE: optionalString,
    /** The Redis address workers should use, when it differs from REDIS_URL's (e.g. a public name). */
    REDIS_WORKER_URL: optionalString,
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    /** How often each replica runs the audit retention purge; 0 disables it. */
    AUDIT_RETENTION_INTERVAL_MINUTES: z.coerce.number().int().min(0).default(60),
  })
  .superRefine((env, ctx) => {
    const groups = /** @type {const} */ ([
      ["OIDC", ["OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"]],
      ["GitHub", ["GITHUB_ID", "GITHUB_SECRET"]],
      ["Google", ["GOOGLE_ID", "GOOGLE_SECRET"]],
    ]);
    for (const [label, keys] of groups) {
      const set = keys.filter((k) => env[k] !== undefined);
      if (set.length > 0 && set.length < keys.length) {
        for (const k of keys.filter((k) => env[k] === undefined)) {
          ctx.addIssue({ code: "custom", path: [k], message: `required when ${set.join(", ")} ${set.length > 1 ? "are" : "is"} set (${label} sign-in)` });
        }
      }
    }
    if (env.NODE_ENV === "production" && !env.NEXTAUTH_SECRET) {
      ctx.addIssue({ code: "custom", path: ["NEXTAUTH_SECRET"], message: "required in production (signs session cookies)" });
    }
  });

/** @typedef {z.output<typeof serverSchema>} Env */

const skip = process.env.SKIP_ENV_VALIDATION === "1" || process.env.SKIP_ENV_VALIDATION === "true";

/**
 * @param {NodeJS.ProcessEnv} source
 * @returns {Env}
 */
export function parseEnv(source) {
  const result = serverSchema.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  - ${i.path.join(".") || "(env)"}: ${i.message}`);
    throw new Error(`Invalid environment variables (see README: Configuration):\n${lines.join("\n")}`);
  }
  return result.data;
}

/**
 * The validated environment. With SKIP_ENV_VALIDATION the raw values are used with the same
 * defaults where a default exists, so a build without secrets still produces a working bundle.
 * @type {Env}
 */
export const env = skip
  ? /** @type {Env} */ (
      /** @type {unknown} */ ({
        ...process.env,
        NODE_ENV: process.env.NODE_ENV ?? "development",
        DATABASE_POOL_SIZE: Number(process.env.DATABASE_POOL_SIZE ?? 10),
        OIDC_NAME: process.env.OIDC_NAME || "Single sign-on",
        LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
        AUDIT_RETENTION_INTERVAL_MINUTES: Number(process.env.AUDIT_RETENTION_INTERVAL_MINUTES ?? 60),
        OIDC_ISSUER: process.env.OIDC_ISSUER || undefined,
        OIDC_CLIENT_ID: process.env.OIDC_CLIENT_ID || undefined,
        OIDC_CLIENT_SECRET: process.env.OIDC_CLIENT_SECRET || undefined,
        GITHUB_ID: process.env.GITHUB_ID || undefined,
        GITHUB_SECRET: process.env.GITHUB_SECRET || undefined,
        GOOGLE_ID: process.env.GOOGLE_ID || undefined,
        GOOGLE_SECRET: process.env.GOOGLE_SECRET || undefined,
      })
    )
  : parseEnv(process.env);
