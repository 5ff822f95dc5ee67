// R18 in the daily job against a gateway answering as Stripe does for off-session charges (issue 22
// item 4): a decline whose code is `authentication_required` means the bank wants the holder, so
// it is not retried off-session at E−3 and E−1, unlike a plain decline; the summary counts each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { SYSTEM } from '../../src/services/audit.ts';
import { runDailyJob } from '../../src/services/daily.ts';
import { recordSavedCard, setCardRenewal, startCardSetup } from '../../src/services/billing/payment-methods.ts';
import type { OffSessionCharge, OffSessionResult, SavedCardGateway } from '../../src/payments/saved-cards.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import { forEachEngine } from '../support/engines.ts';
import { holderWithMailbox, outboxOf } from '../support/fixtures.ts';

/** Answers by the card's reference, as Stripe answers a PaymentIntent confirmed off-session. */
function stripeLikeGateway(): SavedCardGateway & { calls: OffSessionCharge[] } {
  const calls: OffSessionCharge[] = [];
  return {
    name: 'test',
    calls,
    async startCardSetup(setup) {
      return { setupUrl: `http://gateway.test/setup/${setup.id}`, gatewaySessionId: null };
    },
    async chargeSavedCard(charge): Promise<OffSessionResult> {
      calls.push(charge);
      // Stripe: card_error, code card_declined with decline_code authentication_required (the card
      // needs the holder); or a plain decline.
      if (charge.cardReference === 'pm_sca_decline') return { outcome: 'failed', failureCode: 'authentication_required', reference: `pi_${calls.length}` };
      if (charge.cardReference === 'pm_sca_action') return { outcome: 'requires_action', reference: `pi_${calls.length}`, actionUrl: 'http://gateway.test/authenticate' };
      return { outcome: 'failed', failureCode: 'card_declined', reference: `pi_${calls.length}` };
    },
    async readSetupCard() {
      throw new Error('this test saves its cards directly');
    },
    async openChargeConfirmation(c) {
      return { url: `http://gateway.test/authenticate/${c.topupId}`, sessionId: null };
    },
    async readChargeConfirmation() {
      throw new Error('this test opens no confirmation sessions');
    },
  };
}

async function holderRenewingBy(ctx: ServiceContext, gateway: SavedCardGateway, reference: string) {
  const { customer, mailbox } = await holderWithMailbox(ctx, { expiresOn: '2026-12-01' });
  const setup = await startCardSetup(ctx, gateway, customer.id);
  assert.equal(
    await recordSavedCard(ctx, {
      gateway: 'test',
      eventId: `evt_${reference}_${customer.id}`,
      setupId: setup.id,
      card: { reference: `${reference}`, gatewayCustomer: 'cus_x', brand: 'visa', last4: '3184', expMonth: 12, expYear: 2034 },
    }),
    'saved',
  );
  const [card] = await ctx.db.query<{ id: string }>('SELECT id FROM payment_methods WHERE customer_id = $1', [customer.id]);
  await setCardRenewal(ctx, SYSTEM, customer.id, mailbox.id, { paymentMethodId: card!.id });
  return { customer, mailbox };
}

forEachEngine('card charges the bank wants the holder to authenticate (R18, issue 22 item 4)', (use) => {
  test('a decline asking for authentication is not retried at E−3 and E−1; a plain decline is; the summary counts both', async () => {
    const { ctx } = use();
    clock.setRome('2026-11-10T10:00');
    const gateway = stripeLikeGateway();
    // The reference is unique per gateway; each engine has its own database.
    const sca = await holderRenewingBy(ctx, gateway, 'pm_sca_decline');
    const action = await holderRenewingBy(ctx, gateway, 'pm_sca_action');
    const declined = await holderRenewingBy(ctx, gateway, 'pm_declined');
    const callsFor = (mailboxId: string) => gateway.calls.filter((c) => c.idempotencyKey.includes(mailboxId)).length;

    clock.setRome('2026-11-24T06:00');
    const first = await runDailyJob(ctx, { savedCards: gateway });
    assert.deepEqual(
      [first.cardChargesAttempted, first.cardChargesSucceeded, first.cardChargesFailed, first.cardChargesAuthenticationRequired],
      [3, 0, 1, 2],
    );
    const [retry] = await ctx.db.query<{ state: string; next_retry_on: string | null; failure_code: string }>(
      'SELECT state, next_retry_on, failure_code FROM card_charges WHERE mailbox_id = $1',
      [sca.mailbox.id],
    );
    assert.deepEqual([retry!.state, retry!.next_retry_on, retry!.failure_code], ['failed', null, 'authentication_required']);
    const failedMail = (await outboxOf(ctx, sca.customer.id)).find((e) => e.subject.startsWith('Pagamento non riuscito'));
    assert.ok(failedMail);
    assert.match(failedMail.text_body, /la banca chiede che tu confermi il pagamento/);
    assert.match(failedMail.text_body, /Non ci saranno altri tentativi di addebito/);

    for (const day of ['2026-11-28', '2026-11-30']) {
      clock.setRome(`${day}T06:00`);
      const summary = await runDailyJob(ctx, { savedCards: gateway });
      assert.deepEqual([summary.cardChargesAttempted, summary.cardChargesFailed, summary.cardChargesAuthenticationRequired], [1, 1, 0], day);
    }
    assert.deepEqual([callsFor(sca.mailbox.id), callsFor(action.mailbox.id), callsFor(declined.mailbox.id)], [1, 1, 3]);
  });
});
