/**
 * Commy cross-node routing: shared-file writes forwarded through Redis Streams, applied once
 * per node, variables converging by HLC, and the transport selection engine.
 * The format is specified in docs/spec/redis-routing.md.
 *
 * This library never imports the control plane (src/server) or the database.
 */
export * from "./errors";
export * from "./keys";
export * from "./hlc";
export * from "./codec";
export * from "./dedupe";
export * from "./connection";
export * from "./state-store";
export * from "./producer";
export * from "./consumer";
export * from "./transport-selection";
export * from "./acl";
export * from "./snapshot";
export * from "./presence";
