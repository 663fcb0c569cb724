import type { PrismaClient } from "~/generated/prisma";
import type { BrokenLink } from "./canonical";
import { GENESIS_HASH, checkLinks } from "./canonical";

export interface ChainVerification {
  chainId: string;
  ok: boolean;
  /** Events checked (those still stored, after the retention anchor). */
  checked: number;
  /** Last seq of the chain according to its head. */
  headSeq: number;
  /** Events before this seq were purged by retention; the chain is verified from here. */
  anchorSeq: number;
  purged: number;
  /** The first broken link, when `ok` is false. */
  firstBroken: BrokenLink | null;
}

const PAGE = 1000;

/**
 * Walks a chain from its anchor to its head and reports the first broken link:
 * - `seq_gap`: an event is missing (deleted) or out of place;
 * - `prev_hash_mismatch`: an event does not point at its predecessor;
 * - `hash_mismatch`: an event's content was changed after it was written (expected = the
 *   hash recomputed from the row, actual = the stored hash);
 * - `head_mismatch`: the newest events were removed (the head says the chain is longer).
 *
 * Runs in one REPEATABLE READ snapshot, so appends that commit while it pages do not show
 * up as a mismatch with the head. A chain with no events and no head verifies as empty.
 *
 * Limits (documented in docs/AUDIT.md): someone who can rewrite every row AND the head can
 * recompute a consistent chain; exporting the head hash elsewhere regularly closes that gap.
 */
export async function verifyChain(db: PrismaClient, chainId: string): Promise<ChainVerification> {
  return db.$transaction(
    async (tx) => {
      const head = await tx.auditChainHead.findUnique({ where: { chainId } });
      const anchor = { seq: head?.anchorSeq ?? 0, hash: head?.anchorHash ?? GENESIS_HASH };
      const headSeq = head?.seq ?? 0;
      const result: ChainVerification = { chainId, ok: true, checked: 0, headSeq, anchorSeq: anchor.seq, purged: head?.purged ?? 0, firstBroken: null };

      let prev = anchor;
      let lastId: string | null = null;
      for (;;) {
        const page = await tx.auditEvent.findMany({
          where: { chainId, seq: { gt: prev.seq } },
          orderBy: { seq: "asc" },
          take: PAGE,
        });
        if (page.length === 0) break;
        const { broken, last } = checkLinks(page, prev);
        if (broken) {
          result.checked += page.findIndex((e) => e.id === broken.id);
          return { ...result, ok: false, firstBroken: broken };
        }
        result.checked += page.length;
        prev = last;
        lastId = page[page.length - 1]!.id;
        if (page.length < PAGE) break;
      }

      if (prev.seq !== headSeq || (head && prev.hash !== head.hash)) {
        return {
          ...result,
          ok: false,
          firstBroken: {
            seq: prev.seq + 1,
            id: lastId ?? "",
            reason: "head_mismatch",
            expected: head ? `seq ${head.seq} hash ${head.hash}` : "no events",
            actual: `seq ${prev.seq} hash ${prev.hash}`,
          },
        };
      }
      return result;
    },
    { isolationLevel: "RepeatableRead" },
  );
}
