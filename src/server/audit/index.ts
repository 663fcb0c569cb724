/** The audit log: typed actions, hash-chained append, verification, retention, query, export. */
export * from "./actions";
export * from "./canonical";
export * from "./record";
export * from "./verify";
export * from "./retention";
export * from "./query";
export * from "./export";
