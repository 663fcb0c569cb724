/**
 * tRPC setup: context, error formatting and the procedure tiers.
 *
 * Tiers (each narrows `ctx`):
 * - `publicProcedure`: anyone.
 * - `authedProcedure`: a signed-in user (session cookie) OR an API key (`Authorization: Bearer`).
 * - `userProcedure`: a signed-in person only (creating tenants, accepting invitations: things
 *   an API key, which belongs to one tenant, must never do).
 * - `tenantProcedure(permission)`: input carries `tenantId`; the caller must be a member of it
 *   (or hold a key of it) and the matrix must allow `permission`. A tenant the caller does not
 *   belong to is NOT_FOUND, indistinguishable from one that does not exist. `ctx.tenant` is the
 *   verified `TenantContext` services take.
 * - `platformAdminProcedure`: users with `isPlatformAdmin`.
 *
 * Every procedure carries `meta: { tier, permission? }`: the machine-readable map that the
 * authorization matrix test and the docs read (no second list to keep in sync).
 */
import { initTRPC, TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import superjson from "superjson";
import { z, ZodError } from "zod";

import type { RequestMeta, TenantContext } from "~/server/actor";
import { authorize } from "~/server/actor";
import type { Permission } from "~/server/auth/permissions";
import type { UserActor } from "~/server/auth/session";
import { zodFieldErrors } from "~/server/contracts/common";
import type { AppErrorCode, FieldErrors } from "~/server/errors";
import { AppError, isAppError } from "~/server/errors";
import { logger } from "~/server/logger";
import { resolveTenantContext } from "~/server/services/tenant-context";
import type { RequestActor } from "./authenticate";
import { authenticateRequest } from "./authenticate";
import { requestMetaFromHeaders } from "./request-meta";

// ---------------------------------------------------------------------------
// Context
// ---------------------------------------------------------------------------

export interface TRPCContext {
  /** The caller, or null (anonymous, or authentication failed: see `authError`). */
  actor: RequestActor | null;
  /** Why authentication failed (bad/revoked/expired key, rate limited), reported by the authed tiers. */
  authError: AppError | null;
  meta: RequestMeta;
}

/** Context of an HTTP request (route handler): session cookie or API key, request id, IP. */
export async function createTRPCContext(opts: { headers: Headers }): Promise<TRPCContext> {
  const meta = requestMetaFromHeaders(opts.headers);
  const { actor, authError } = await authenticateRequest(opts.headers, meta);
  return { actor, authError, meta };
}

/** Context from already-known parts (server components, tests). */
export function createInnerTRPCContext(parts: Partial<TRPCContext> & Pick<TRPCContext, "meta">): TRPCContext {
  return { actor: parts.actor ?? null, authError: parts.authError ?? null, meta: parts.meta };
}

// ---------------------------------------------------------------------------
// Meta and errors
// ---------------------------------------------------------------------------

export type ProcedureTier = "public" | "authed" | "user" | "tenant" | "platformAdmin";

export interface ProcedureMeta {
  tier: ProcedureTier;
  /** For `tenant` procedures: the matrix permission the caller needs. */
  permission?: Permission;
  /** For `tenant` procedures: people only, API keys refused (e.g. leaving a tenant). */
  userOnly?: boolean;
}

const TRPC_CODE_OF: Record<AppErrorCode, TRPC_ERROR_CODE_KEY> = {
  BAD_REQUEST: "BAD_REQUEST",
  VALIDATION_FAILED: "BAD_REQUEST",
  UNAUTHENTICATED: "UNAUTHORIZED",
  API_KEY_INVALID: "UNAUTHORIZED",
  API_KEY_REVOKED: "UNAUTHORIZED",
  API_KEY_EXPIRED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  LAST_OWNER: "CONFLICT",
  INVITATION_EXPIRED: "PRECONDITION_FAILED",
  INVITATION_REVOKED: "PRECONDITION_FAILED",
  INVITATION_USED: "CONFLICT",
  INVITATION_EMAIL_MISMATCH: "FORBIDDEN",
  PRECONDITION_FAILED: "PRECONDITION_FAILED",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  RATE_LIMITED: "TOO_MANY_REQUESTS",
  SLOT_NOT_FOUND: "NOT_FOUND",
  ROUTING_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  INTERNAL: "INTERNAL_SERVER_ERROR",
};

/** The one mapping of `AppError` onto tRPC (REST has its own single mapping). */
export function toTRPCError(err: AppError): TRPCError {
  return new TRPCError({ code: TRPC_CODE_OF[err.code], message: err.userMessage, cause: err });
}

function appCodeOf(error: TRPCError): AppErrorCode | string {
  if (isAppError(error.cause)) return error.cause.code;
  if (error.cause instanceof ZodError) return "VALIDATION_FAILED";
  return error.code;
}

const t = initTRPC
  .context<TRPCContext>()
  .meta<ProcedureMeta>()
  .create({
    transformer: superjson,
    /**
     * Every error the client sees: `message` safe to show, `data.appCode` the stable code
     * (same as REST's `error.code`), `data.fieldErrors` for invalid input (zod issues, or an
     * AppError's fields). Internal errors never leak their message in production.
     */
    errorFormatter({ shape, error }) {
      let fieldErrors: FieldErrors | null = null;
      let message = shape.message;
      if (error.cause instanceof ZodError) {
        fieldErrors = zodFieldErrors(error.cause);
        message = "Some fields are invalid";
      } else if (isAppError(error.cause)) {
        fieldErrors = error.cause.fields ?? null;
        message = error.cause.userMessage;
      } else if (error.code === "INTERNAL_SERVER_ERROR" && process.env.NODE_ENV === "production") {
        message = "Internal error";
      }
      return {
        ...shape,
        message,
        data: {
          ...shape.data,
          appCode: appCodeOf(error),
          fieldErrors,
          stack: process.env.NODE_ENV === "production" ? undefined : shape.data.stack,
        },
      };
    },
  });

export const createCallerFactory = t.createCallerFactory;
export const createTRPCRouter = t.router;

/**
 * First middleware of every procedure: AppErrors thrown by services (or tiers) become the
 * matching TRPCError; anything unexpected is logged with the request id.
 */
const errorMapping = t.middleware(async ({ ctx, path, next }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (isAppError(cause)) throw toTRPCError(cause);
    if (result.error.code === "INTERNAL_SERVER_ERROR") {
      logger.error({ err: cause ?? result.error, path, requestId: ctx.meta.requestId }, "tRPC procedure failed");
    }
  }
  return result;
});

const baseProcedure = t.procedure.use(errorMapping);

// ---------------------------------------------------------------------------
// Tiers
// ---------------------------------------------------------------------------

export const publicProcedure = baseProcedure.meta({ tier: "public" });

/** A signed-in user or an API key. */
export const authedProcedure = baseProcedure.meta({ tier: "authed" }).use(({ ctx, next }) => {
  if (ctx.authError) throw ctx.authError;
  if (!ctx.actor) throw new AppError("UNAUTHENTICATED", "Sign in or pass an API key");
  return next({ ctx: { actor: ctx.actor } });
});

/** A signed-in person (session), not an API key. */
export const userProcedure = baseProcedure.meta({ tier: "user" }).use(({ ctx, next }) => {
  if (ctx.authError) throw ctx.authError;
  if (!ctx.actor) throw new AppError("UNAUTHENTICATED", "Sign in first");
  if (ctx.actor.type !== "USER") throw new AppError("FORBIDDEN", "This action needs a signed-in user; API keys cannot do it");
  const user: UserActor = ctx.actor;
  return next({ ctx: { actor: user } });
});

/** Input every tenant-scoped procedure carries (merged with its own input schema). */
export const ZTenantScoped = z.object({ tenantId: z.string().min(1, "Choose a tenant").max(64) });

/**
 * Member of `input.tenantId` (or a key of it) holding `permission`. The membership check comes
 * first and a failure is NOT_FOUND, so a caller cannot probe which tenant ids exist; only then
 * the permission check, which names the missing permission (FORBIDDEN).
 */
export function tenantProcedure(permission: Permission, opts: { userOnly?: boolean } = {}) {
  const userOnly = opts.userOnly ?? false;
  return authedProcedure
    .meta({ tier: "tenant", permission, userOnly })
    .input(ZTenantScoped)
    .use(async ({ ctx, input, next }) => {
      const tenant: TenantContext = await resolveTenantContext(ctx.actor, input.tenantId, ctx.meta);
      if (userOnly && tenant.actor.type !== "USER") throw new AppError("FORBIDDEN", "This action needs a signed-in member; API keys cannot do it");
      authorize(tenant, permission);
      return next({ ctx: { tenant } });
    });
}

/** Platform administrators (support): `User.isPlatformAdmin`. */
export const platformAdminProcedure = userProcedure.meta({ tier: "platformAdmin" }).use(({ ctx, next }) => {
  if (!ctx.actor.isPlatformAdmin) throw new AppError("FORBIDDEN", "Platform administrators only");
  return next({ ctx: { actor: ctx.actor } });
});
