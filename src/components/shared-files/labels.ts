/**
 * Display labels for the shared-file request model's wire values. The explanations come from
 * the contract (`~/server/contracts/shared-file`), so the UI, the API docs and the validation
 * say the same thing.
 */
import {
  CONSISTENCY_HELP,
  CREATION_POLICY_HELP,
  DIRECTIONALITY_HELP,
  DURABILITY_HELP,
  EXISTENCE_POLICY_HELP,
  KIND_HELP,
  PATTERN_HELP,
  SERIALIZATION_HELP,
  TOPOLOGY_HELP,
  TRANSPORT_PREFERENCE_HELP,
} from "~/server/contracts/shared-file";

/** `publish-subscribe` → "Publish-subscribe"; a few get hand-written labels. */
export function valueLabel(v: string): string {
  const special: Record<string, string> = {
    "one-to-one": "1:1 (one-to-one)",
    "one-to-many": "1:N (one-to-many)",
    "many-to-one": "N:1 (many-to-one)",
    "many-to-many": "N:M (many-to-many)",
    json: "JSON",
    msgpack: "MessagePack",
    cbor: "CBOR",
    raw: "Raw bytes",
    "producer-to-consumer": "Producer → consumer",
  };
  return special[v] ?? v.charAt(0).toUpperCase() + v.slice(1).replace(/-/g, " ");
}

export const ENUM_HELP = {
  kind: KIND_HELP,
  pattern: PATTERN_HELP,
  topology: TOPOLOGY_HELP,
  directionality: DIRECTIONALITY_HELP,
  serialization: SERIALIZATION_HELP,
  creationPolicy: CREATION_POLICY_HELP,
  existencePolicy: EXISTENCE_POLICY_HELP,
  transportPreference: TRANSPORT_PREFERENCE_HELP,
  consistency: CONSISTENCY_HELP,
  durability: DURABILITY_HELP,
} as const;
