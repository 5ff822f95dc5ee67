// The credit statement in the holder's language (issue 15, item 6): descriptions of every kind of
// movement read in Italian or English, with dates in words; the Italian text of record is stored.
import { beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { forEachEngine } from '../support/engines.ts';
import { holderWithMailbox } from '../support/fixtures.ts';
import { placeExtraSpaceOrder, placeRenewalOrder } from '../../src/services/billing/orders.ts';
import { readStatement } from '../../src/services/billing/credit.ts';
import { transactionView } from '../../src/services/views.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';

forEachEngine('ledger descriptions', (use) => {
  beforeEach(() => clock.setRome('2026-10-10T10:00'));

  test('an English holder reads the statement in English, dates in words; the Italian text is kept', async () => {
    const { ctx } = use();
    const { customer, mailbox } = await holderWithMailbox(ctx, { creditCents: 5000, locale: 'en' });
    clock.setRome('2026-06-10T10:00');
    await placeExtraSpaceOrder(ctx, customer.id, mailbox.id, 2);
    clock.setRome('2026-10-10T10:00');
    await placeRenewalOrder(ctx, customer.id, mailbox.id);
    const st = await readStatement(ctx, customer.id);
    assert.equal(st.locale, 'en');
    assert.deepEqual(
      st.transactions.map((t) => transactionView(t, 'en').description),
      [
        `Renewal of ${mailbox.address} until 1 December 2027 (with 2 GB of extra inbox space)`,
        `Extra inbox space 2 GB for ${mailbox.address}`,
        'Adjustment: test credit',
      ],
    );
    assert.deepEqual(
      st.transactions.map((t) => transactionView(t, 'it').description),
      [
        `Rinnovo ${mailbox.address} fino al 1° dicembre 2027 (con Spazio Extra Inbox 2 GB)`,
        `Spazio Extra Inbox 2 GB per ${mailbox.address}`,
        'Rettifica: test credit',
      ],
    );
    // The text of record is Italian, whatever the holder's language, and has no ISO date.
    assert.doesNotMatch(st.transactions.map((t) => t.description).join('\n'), /\d{4}-\d{2}-\d{2}/);
    assert.match(st.transactions[0]!.description, /^Rinnovo .* fino al 1° dicembre 2027/);
    assert.ok((await verifyLedger(ctx.db)).ok);
  });

  test('a row written before descriptions had keys shows its stored text', async () => {
    const { ctx } = use();
    const { customer } = await holderWithMailbox(ctx, { creditCents: 100, locale: 'en' });
    const [row] = (await readStatement(ctx, customer.id)).transactions;
    assert.equal(transactionView({ ...row!, description_params: null, description: 'Ricarica con carta' }, 'en').description, 'Ricarica con carta');
  });
});
