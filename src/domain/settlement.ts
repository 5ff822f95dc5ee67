// R5: settling an order against the wallet.
import { maxCents, subCents, type Cents } from './money.ts';

export type SettlementDecision =
  | { outcome: 'complete'; chargeCents: Cents; balanceAfterCents: Cents }
  | { outcome: 'await_topup'; shortfallCents: Cents; topupRequiredCents: Cents };

export function settle(amount: Cents, balance: Cents, topupMin: Cents): SettlementDecision {
  if (amount <= balance) return { outcome: 'complete', chargeCents: amount, balanceAfterCents: subCents(balance, amount) };
  const shortfall = subCents(amount, balance);
  return { outcome: 'await_topup', shortfallCents: shortfall, topupRequiredCents: maxCents(shortfall, topupMin) };
}

/**
 * R5: after a top-up, waiting orders are settled oldest first while the balance covers them; the
 * order the top-up was made for goes first.
 */
export function settlementQueue<O extends { id: string }>(waitingOldestFirst: readonly O[], firstOrderId: string | null): O[] {
  if (!firstOrderId) return [...waitingOldestFirst];
  return [
    ...waitingOldestFirst.filter((o) => o.id === firstOrderId),
    ...waitingOldestFirst.filter((o) => o.id !== firstOrderId),
  ];
}
