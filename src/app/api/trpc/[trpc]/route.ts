import { fetchRequestHandler } from "@trpc/server/adapters/fetch";

import { appRouter } from "~/server/api/root";
import { createTRPCContext } from "~/server/api/trpc";

export const dynamic = "force-dynamic";

/** tRPC over HTTP: session cookie or `Authorization: Bearer <api key>`; batched; superjson. */
function handler(req: Request): Promise<Response> {
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: () => createTRPCContext({ headers: req.headers }),
    responseMeta({ ctx }) {
      // Echo the request id so a user can quote it; the audit log carries the same id.
      return ctx ? { headers: new Headers({ "x-request-id": ctx.meta.requestId }) } : {};
    },
  });
}

export { handler as GET, handler as POST };
