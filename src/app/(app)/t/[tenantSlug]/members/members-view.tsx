"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSession } from "next-auth/react";
import { useState } from "react";

import { ROLE_HELP, ROLE_LABELS, useTenant } from "~/components/tenant/tenant-context";
import { Button } from "~/components/ui/button";
import { ErrorAlert, fieldErrorsOf, messageOf } from "~/components/ui/errors";
import { Field, Input, Select } from "~/components/ui/field";
import { formatDateTime, formatRelative } from "~/components/ui/format";
import { ConfirmDialog, SecretOnce } from "~/components/ui/interactive";
import { Alert, Badge, Card, EmptyState, PageHeader, Skeleton, Table, Td } from "~/components/ui/layout";
import { ROLES, ROLE_RANK, type Role } from "~/server/auth/permissions";
import { type RouterOutputs, useTRPC } from "~/trpc/react";

type Member = RouterOutputs["member"]["list"][number];
type Invitation = RouterOutputs["invitation"]["list"][number];

export function MembersView() {
  const tenant = useTenant();
  return (
    <>
      <PageHeader
        title="Members"
        description="People with access to this tenant and their roles. Invitations are single-use links that expire after 7 days and can only be accepted by the invited email address."
      />
      <div className="space-y-6">
        {tenant.can("member:invite") ? <InviteCard /> : null}
        <InvitationsCard />
        <MembersCard />
      </div>
    </>
  );
}

/** Roles the current user may hand out: never more than their own (only owners make owners). */
function grantableRoles(myRole: Role): Role[] {
  return ROLES.filter((r) => ROLE_RANK[r] <= ROLE_RANK[myRole]);
}

function InviteCard() {
  const tenant = useTenant();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("VIEWER");
  const create = useMutation(
    trpc.invitation.create.mutationOptions({
      onSuccess: async () => {
        setEmail("");
        await queryClient.invalidateQueries({ queryKey: trpc.invitation.list.pathKey() });
      },
    }),
  );
  const fields = fieldErrorsOf(create.error);
  const created = create.data;
  const link = created
    ? (created.url ?? `${window.location.origin}/invite/${encodeURIComponent(created.token)}`)
    : null;

  return (
    <Card title="Invite a member" description="The link is shown once. Send it to the person yourself.">
      <form
        className="grid gap-4 sm:grid-cols-[1fr_12rem_auto] sm:items-start"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate({ tenantId: tenant.id, email: email.trim(), role });
        }}
      >
        <Field label="Email" required error={fields.email}>
          {(p) => (
            <Input {...p} type="email" autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} placeholder="ada@example.com" />
          )}
        </Field>
        <Field label="Role" error={fields.role} help={ROLE_HELP[role]}>
          {(p) => (
            <Select {...p} value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {grantableRoles(tenant.role).map((r) => (
                <option key={r} value={r}>
                  {ROLE_LABELS[r]}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <div className="sm:pt-6">
          <Button type="submit" loading={create.isPending} disabled={!email.trim()}>
            Create invitation
          </Button>
        </div>
      </form>
      {create.error && Object.keys(fields).length === 0 ? (
        <div className="mt-4">
          <ErrorAlert error={create.error} />
        </div>
      ) : null}
      {created && link ? (
        <div className="mt-4">
          <SecretOnce
            label={`Invitation link for ${created.invitation.email}`}
            value={link}
            note={`Shown only now. Single use; expires ${formatDateTime(created.invitation.expiresAt)}. Only ${created.invitation.email} can accept it, after signing in.`}
          />
        </div>
      ) : null}
    </Card>
  );
}

function InvitationsCard() {
  const tenant = useTenant();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const list = useQuery(trpc.invitation.list.queryOptions({ tenantId: tenant.id }));
  const [revoking, setRevoking] = useState<Invitation | null>(null);
  const revoke = useMutation(
    trpc.invitation.revoke.mutationOptions({
      onSuccess: async () => {
        setRevoking(null);
        await queryClient.invalidateQueries({ queryKey: trpc.invitation.list.pathKey() });
      },
    }),
  );
  const canRevoke = tenant.can("member:invite");
  const pending = list.data?.filter((i) => !i.acceptedAt && !i.revokedAt) ?? [];

  return (
    <Card title="Pending invitations">
      {list.isPending ? (
        <Skeleton rows={2} label="Loading invitations" />
      ) : list.error ? (
        <ErrorAlert error={list.error} />
      ) : pending.length === 0 ? (
        <p className="text-sm text-slate-600 dark:text-slate-400">No pending invitations.</p>
      ) : (
        <Table caption="Pending invitations" head={["Email", "Role", "Invited", "Expires", <span key="a" className="sr-only">Actions</span>]}>
          {pending.map((inv) => {
            const expired = new Date(inv.expiresAt).getTime() < Date.now();
            return (
              <tr key={inv.id}>
                <Td className="font-medium">{inv.email}</Td>
                <Td>
                  <Badge>{ROLE_LABELS[inv.role]}</Badge>
                </Td>
                <Td className="whitespace-nowrap text-slate-600 dark:text-slate-400">{formatRelative(inv.createdAt)}</Td>
                <Td className="whitespace-nowrap">
                  {expired ? <Badge tone="red">Expired</Badge> : <span className="text-slate-600 dark:text-slate-400">{formatRelative(inv.expiresAt)}</span>}
                </Td>
                <Td className="text-right">
                  {canRevoke ? (
                    <Button size="sm" variant="secondary" onClick={() => setRevoking(inv)} aria-label={`Revoke invitation for ${inv.email}`}>
                      Revoke
                    </Button>
                  ) : null}
                </Td>
              </tr>
            );
          })}
        </Table>
      )}
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke invitation?"
        confirmLabel="Revoke invitation"
        pending={revoke.isPending}
        error={revoke.error ? messageOf(revoke.error) : undefined}
        onClose={() => {
          setRevoking(null);
          revoke.reset();
        }}
        onConfirm={() => revoking && revoke.mutate({ tenantId: tenant.id, invitationId: revoking.id })}
      >
        The link sent to <strong>{revoking?.email}</strong> stops working immediately.
      </ConfirmDialog>
    </Card>
  );
}

function MembersCard() {
  const tenant = useTenant();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const session = useSession();
  const myEmail = session.data?.user?.email ?? null;
  const list = useQuery(trpc.member.list.queryOptions({ tenantId: tenant.id }));
  const [removing, setRemoving] = useState<Member | null>(null);
  const invalidate = async () => {
    await queryClient.invalidateQueries({ queryKey: trpc.member.list.pathKey() });
    await queryClient.invalidateQueries({ queryKey: trpc.me.pathKey() });
  };
  const changeRole = useMutation(trpc.member.changeRole.mutationOptions({ onSuccess: invalidate }));
  const remove = useMutation(
    trpc.member.remove.mutationOptions({
      onSuccess: async () => {
        setRemoving(null);
        await invalidate();
      },
    }),
  );
  const members = list.data ?? [];
  const ownerCount = members.filter((m) => m.role === "OWNER").length;
  const canUpdate = tenant.can("member:update");
  const canRemove = tenant.can("member:remove");

  return (
    <Card title="Members" description={`${members.length || "No"} member${members.length === 1 ? "" : "s"}`}>
      {changeRole.error ? (
        <div className="mb-4">
          <ErrorAlert error={changeRole.error} title="The role was not changed" />
        </div>
      ) : null}
      {list.isPending ? (
        <Skeleton rows={3} label="Loading members" />
      ) : list.error ? (
        <ErrorAlert error={list.error} />
      ) : members.length === 0 ? (
        <EmptyState title="No members" />
      ) : (
        <>
          {ownerCount === 1 && (canUpdate || canRemove) ? (
            <Alert tone="info" className="mb-4">
              This tenant has a single owner. The last owner can be neither removed nor demoted: make
              another member an owner first.
            </Alert>
          ) : null}
          <Table caption="Members" head={["Member", "Role", "Joined", <span key="a" className="sr-only">Actions</span>]}>
            {members.map((m) => {
              const label = m.user.name ?? m.user.email ?? m.userId;
              const isLastOwner = m.role === "OWNER" && ownerCount === 1;
              const isMe = myEmail !== null && m.user.email === myEmail;
              // Only owners may grant or take away ownership.
              const roleLocked = isLastOwner || (m.role === "OWNER" && tenant.role !== "OWNER");
              return (
                <tr key={m.id}>
                  <Td>
                    <div className="font-medium">
                      {label}
                      {isMe ? <span className="ml-1 text-xs font-normal text-slate-500">(you)</span> : null}
                    </div>
                    {m.user.name && m.user.email ? (
                      <div className="text-xs text-slate-500 dark:text-slate-400">{m.user.email}</div>
                    ) : null}
                  </Td>
                  <Td>
                    {canUpdate ? (
                      <div className="w-36">
                        <label className="sr-only" htmlFor={`role-${m.id}`}>
                          Role of {label}
                        </label>
                        <Select
                          id={`role-${m.id}`}
                          value={m.role}
                          disabled={roleLocked || changeRole.isPending}
                          title={isLastOwner ? "The last owner cannot be demoted" : undefined}
                          onChange={(e) =>
                            changeRole.mutate({ tenantId: tenant.id, userId: m.userId, role: e.target.value as Role })
                          }
                        >
                          {(roleLocked ? ROLES : grantableRoles(tenant.role)).map((r) => (
                            <option key={r} value={r}>
                              {ROLE_LABELS[r]}
                            </option>
                          ))}
                        </Select>
                        {isLastOwner ? <p className="mt-1 text-xs text-slate-500">Last owner</p> : null}
                      </div>
                    ) : (
                      <Badge tone={m.role === "OWNER" ? "indigo" : "gray"}>{ROLE_LABELS[m.role]}</Badge>
                    )}
                  </Td>
                  <Td className="whitespace-nowrap text-slate-600 dark:text-slate-400">{formatDateTime(m.createdAt)}</Td>
                  <Td className="text-right">
                    {canRemove ? (
                      <Button
                        size="sm"
                        variant="secondary"
                        disabled={isLastOwner || (m.role === "OWNER" && tenant.role !== "OWNER")}
                        title={isLastOwner ? "The last owner cannot be removed" : undefined}
                        onClick={() => setRemoving(m)}
                        aria-label={`Remove ${label}`}
                      >
                        Remove
                      </Button>
                    ) : null}
                  </Td>
                </tr>
              );
            })}
          </Table>
        </>
      )}
      <ConfirmDialog
        open={removing !== null}
        title="Remove member?"
        confirmLabel="Remove member"
        pending={remove.isPending}
        error={remove.error ? messageOf(remove.error) : undefined}
        onClose={() => {
          setRemoving(null);
          remove.reset();
        }}
        onConfirm={() => removing && remove.mutate({ tenantId: tenant.id, userId: removing.userId })}
      >
        <strong>{removing?.user.name ?? removing?.user.email}</strong> loses access to this tenant
        immediately. API keys they created keep working until revoked.
      </ConfirmDialog>
    </Card>
  );
}
