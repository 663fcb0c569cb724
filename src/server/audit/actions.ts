/**
 * Every action the audit log knows, as one typed union. Add new actions here (grouped by the
 * thing they act on); `recordAudit` accepts nothing else, so a typo fails the type check and
 * the audit page's action filter lists exactly these.
 */
export const AUDIT_ACTIONS = [
  // Sign-in (next-auth events)
  "auth.signed_in",
  "auth.signed_out",
  // Tenants
  "tenant.created",
  "tenant.renamed",
  "tenant.settings_updated",
  "tenant.deleted",
  // Members and invitations
  "member.added",
  "member.role_changed",
  "member.removed",
  "invitation.created",
  "invitation.accepted",
  "invitation.revoked",
  // API keys
  "apikey.created",
  "apikey.revoked",
  "apikey.auth_failed",
  // Shared files
  "file.created",
  "file.updated",
  "file.deleted",
  // A node removed a file's mapping when it reached its TTL (reported by the worker)
  "file.expired",
  // Nodes and worker settings
  "node.join_token_created",
  "node.join_token_revoked",
  "node.joined",
  "node.updated",
  "node.revoked",
  "node.drained",
  "attachment.opened",
  "attachment.closed",
  // Cross-node routing: transport decisions reported by workers (PUT /api/worker/routes)
  "transport.selected",
  "transport.switched",
  "transport.failed",
  // Data access through the API (no local worker): writes go through Redis like any node's
  "data.variable_written",
  "data.published",
  "settings.updated",
  "settings.rolled_back",
  // The audit log itself
  "audit.exported",
  "audit.verified",
  "audit.purged",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export function isAuditAction(value: string): value is AuditAction {
  return (AUDIT_ACTIONS as readonly string[]).includes(value);
}

/** Chain id of events that belong to no tenant (sign-ins of users without a tenant, deleted tenants, unknown API keys). */
export const PLATFORM_CHAIN = "platform";
