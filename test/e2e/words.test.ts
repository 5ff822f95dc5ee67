// Dates in words, never ISO, on every page a holder reads (issue 15, item 6), in both languages,
// after purchases, a renewal and a card top-up have filled the statement and the orders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clock } from '../../src/clock.ts';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';

/** What a reader sees: the text between tags, without attributes (dates in datetime="" are for machines). */
const visibleText = (page: string): string =>
  page.replace(/<(script|style)[\s\S]*?<\/\1>/g, ' ').replace(/<[^>]*>/g, ' ').replace(/&[a-z#0-9]+;/g, ' ');

const ISO_DATE = /\b\d{4}-\d{2}-\d{2}\b/;

forEachServer('dates in words', (t) => {
  for (const lang of ['it', 'en'] as const) {
    test(`no page shows an ISO date (${lang})`, async () => {
      clock.setRome('2026-06-10T10:00');
      const h = await provisionHolder(t.op, { creditCents: 2000, expiresOn: '2026-12-01', locale: lang });
      const c = new Client(t.s.baseUrl);
      assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
      const id = h.mailbox.id;
      assert.equal((await c.post(`/api/mailboxes/${id}/extra-space/orders`, { quantityGb: 2 })).status, 201);
      clock.setRome('2026-10-10T10:00');
      assert.equal((await c.post(`/api/mailboxes/${id}/renewal`)).body.order.status, 'completed');
      const topup = (await c.post('/api/credit/topups', { amountCents: 1000 })).body.topup;
      const pages = ['/', '/mailboxes', `/mailboxes/${id}`, `/mailboxes/${id}/extra-space?quantityGb=1`, '/credit', `/credit/topups/${topup.id}`, '/orders', '/fatture', '/profilo'];
      for (const path of pages) {
        const res = await c.get<string>(path);
        assert.equal(res.status, 200, path);
        assert.match(res.body, new RegExp(`<html lang="${lang}"`), path);
        assert.doesNotMatch(visibleText(res.body), ISO_DATE, path);
        // Issue 19: an Italian article never stands before otto/undici ("l'8 dicembre", "l'80%").
        if (lang === 'it') assert.doesNotMatch(visibleText(res.body), /\b(il|al|dal|del|nel|sul) (8|11(?!\d))/i, path);
      }
      // The statement's renewal line, in words and in the holder's language.
      assert.match(visibleText((await c.get<string>('/credit')).body), lang === 'it' ? /fino al 1° dicembre 2027/ : /until 1 December 2027/);
      const gateway = await fetch(topup.checkoutUrl).then((r) => r.text());
      assert.doesNotMatch(visibleText(gateway), ISO_DATE);
    });
  }
});
