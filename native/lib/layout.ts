/**
 * Byte offsets of the shared-file format, mirrored from native/src/format.h
 * (normative text: docs/spec/shared-file-format.md). Change all three together.
 */

/** Variable slot control line (relative to the slot offset). */
export const VAR = {
  lock: 0,
  version: 4,
  waiters: 8,
  recoveries: 12,
  controlSize: 64,
  bufLen: 0,
  bufData: 8,
} as const;

/** Stream control block (relative to the region offset) and ring slots. */
export const STREAM = {
  headLo: 0,
  headHi: 4,
  lock: 8,
  waiters: 12,
  recoveries: 16,
  refused: 20,
  spaceSeq: 24,
  spaceWaiters: 28,
  consumers: 128,
  consumerSize: 64,
  consOwner: 0,
  consCursor: 8,
  slotTag: 0,
  slotLen: 4,
  slotSeqLo: 8,
  slotSeqHi: 12,
  slotData: 16,
} as const;

export const LIMITS = {
  maxNameBytes: 40,
  maxValueSize: 16 * 1024 * 1024,
  maxSlots: 65536,
  minCapacity: 2,
  maxCapacity: 1 << 24,
  maxMessageSize: 1024 * 1024,
  maxConsumers: 256,
} as const;

/** low32(2s + 1): the slot is being written for sequence s. */
export function writingTag(seq: number): number {
  return ((seq % 2147483648) * 2 + 1) | 0;
}

/** low32(2s + 2): the slot holds sequence s, complete. */
export function publishedTag(seq: number): number {
  return ((seq % 2147483648) * 2 + 2) | 0;
}
