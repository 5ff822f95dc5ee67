// A purchase that looks like one made twice by mistake (issue 19): the same quantity of extra space
// on the same mailbox, a few minutes after the last one. The page then asks before charging again;
// the API does not (an API client states its intent with an Idempotency-Key).

/** How long after a purchase the same one again is asked about. */
export const REPEAT_PURCHASE_WINDOW_MS = 10 * 60 * 1000;

export interface PastPurchase {
  mailboxId: string;
  kind: 'extra_inbox_space' | 'renewal';
  quantityGb: number;
  status: 'completed' | 'awaiting_topup' | 'cancelled' | 'expired';
  createdAtMs: number;
}

/** The latest purchase that a new one of `quantityGb` on `mailboxId` at `nowMs` would repeat, or null. */
export function purchaseRepeated(past: readonly PastPurchase[], mailboxId: string, quantityGb: number, nowMs: number): PastPurchase | null {
  let latest: PastPurchase | null = null;
  for (const p of past) {
    if (p.mailboxId !== mailboxId || p.kind !== 'extra_inbox_space' || p.quantityGb !== quantityGb) continue;
    if (p.status !== 'completed' && p.status !== 'awaiting_topup') continue;
    if (p.createdAtMs > nowMs || nowMs - p.createdAtMs > REPEAT_PURCHASE_WINDOW_MS) continue;
    if (!latest || p.createdAtMs > latest.createdAtMs) latest = p;
  }
  return latest;
}
