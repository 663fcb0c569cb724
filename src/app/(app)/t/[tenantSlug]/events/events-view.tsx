"use client";

import { useTenant } from "~/components/tenant/tenant-context";
import { Card, EmptyState, PageHeader } from "~/components/ui/layout";
import { EventFeed } from "./event-feed";

export function EventsView() {
  const tenant = useTenant();
  return (
    <>
      <PageHeader
        title="Events"
        description="What happens in this tenant, live: shared files created and changed, processes attaching and detaching, transport decisions, data written through the API, refused access. Follow it over the API too: GET /api/v1/events (server-sent events)."
      />
      <Card>
        {tenant.can("audit:read") ? (
          <EventFeed backlog={50} title="Tenant event feed" />
        ) : (
          <EmptyState title="No access" description="The event feed needs the audit:read permission." />
        )}
      </Card>
    </>
  );
}
