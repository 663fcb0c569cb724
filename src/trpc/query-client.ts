import { defaultShouldDehydrateQuery, QueryClient } from "@tanstack/react-query";
import superjson from "superjson";

/**
 * One QueryClient factory for the browser provider (and any server-side prefetch helper).
 * superjson (de)hydration matches the server's transformer, so Dates stay Dates.
 */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Avoid refetching immediately on the client after a server prefetch.
        staleTime: 30 * 1000,
        retry: (failureCount, error) => {
          // Authorization and validation errors will not get better by retrying.
          const code = (error as { data?: { code?: string } } | null)?.data?.code;
          if (code && ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "BAD_REQUEST"].includes(code)) {
            return false;
          }
          return failureCount < 2;
        },
      },
      dehydrate: {
        serializeData: superjson.serialize,
        shouldDehydrateQuery: (query) =>
          defaultShouldDehydrateQuery(query) || query.state.status === "pending",
      },
      hydrate: {
        deserializeData: superjson.deserialize,
      },
    },
  });
}
