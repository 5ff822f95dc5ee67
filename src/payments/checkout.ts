// A card top-up from start to the gateway's page: the pending top-up is written first, then the
// gateway opens its checkout; if it cannot, the top-up fails at once and nothing is charged.
import type { ServiceContext } from '../services/context.ts';
import type { TopupRow } from '../services/rows.ts';
import { createTopup, failCheckout, recordCheckout } from '../services/billing/topups.ts';
import type { PaymentGateway } from './gateway.ts';

/**
 * Starts a payment for a new top-up; used by the API and the pages. A bank transfer (R17) opens no
 * checkout: the holder pays it from their bank with the causale the top-up shows.
 */
export async function startTopup(
  ctx: ServiceContext,
  gateway: PaymentGateway,
  customerId: string,
  amountCents: number,
  orderId: string | null,
  method: 'card' | 'bank_transfer' = 'card',
): Promise<TopupRow> {
  const topup = await createTopup(ctx, customerId, amountCents, orderId, gateway.name, method);
  if (method === 'bank_transfer') return topup;
  const returnUrl = `${ctx.publicUrl}/credit/topups/${encodeURIComponent(topup.id)}`;
  try {
    const start = await gateway.startCheckout(topup, { returnUrl, cancelUrl: returnUrl });
    if (start.checkoutUrl || start.gatewaySessionId) return recordCheckout(ctx, topup.id, start.checkoutUrl, start.gatewaySessionId);
    return topup;
  } catch (err) {
    await failCheckout(ctx, topup.id);
    throw err;
  }
}
