import { purgeExpiredAuditEvents } from "~/server/audit/retention";
import { db } from "~/server/db";
import { platformAdminProcedure } from "../../trpc";
import { ZPurgeAuditResponseSchema } from "./admin.types";

/** Runs the audit retention job now (it also runs periodically on every replica). */
export const purgeAuditRoute = platformAdminProcedure.output(ZPurgeAuditResponseSchema).mutation(() => purgeExpiredAuditEvents(db));
