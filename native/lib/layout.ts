/**
 * Byte offsets of the shared-file format, mirrored from native/src/format.h
 * (normative text: docs/spec/shared-file-format.md). Change all three together.
 */

/** Variable slot control line (relative to the slot offset). */
export const VAR = {
  // line 0: writers (and waiters registering)
  lock: 0,
  waiters: 8,
  recoveries: 12,
  // line 1: what readers poll
  version: 64, // with len: one 64-bit word, published by one store
  len: 68,
  controlSize: 128,
  // format v3: slots of at most inlineMax bytes keep their two buffers in
  // the readers' line, at inlineBuf0 and inlineBuf0 + inlineMax
  inlineMax: 28,
  inlineBuf0: 72,
} as const;

/** Stream control block (relative to the region offset) and ring slots. */
export const STREAM = {
  // line 0: readers poll head, announce sleeps in waiters
  headLo: 0,
  headHi: 4,
  waiters: 12,
  // line 1: producers
  lock: 64,
  recoveries: 68,
  refused: 72,
  spaceSeq: 76,
  spaceWaiters: 80,
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
