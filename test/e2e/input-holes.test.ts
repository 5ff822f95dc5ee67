// Issue 19, items 9 and 10: input from outside that reached the database or came back in a schema
// library's words. Years outside 2000–2999 in a month or a date are 422 naming the field (they gave
// 500 or a cut 200); an id longer than any Casella gives is 404 on every route (it was 422); the
// register is inert in a spreadsheet that splits on ';'; the operator's inputs are checked as the
// holder's forms are, and every validation message is a sentence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';
import { BUSINESS_WITH_CODE } from '../support/billing.ts';

const GOOD_CARD = '4242424242424242';
/** Words of Ajv's own messages, which no answer may carry any more. */
const RAW_SCHEMA_WORDS = /must be equal to constant|must match|must NOT|must be (integer|string|boolean|object|array|null|number)\b|anyOf|oneOf|exceeding/;

forEachServer('Issue 19: input holes', (t) => {
  const holder = async () => {
    const h = await provisionHolder(t.op);
    const c = new Client(t.s.baseUrl);
    assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
    return { ...h, c };
  };

  test('item 9: a month or a date outside the years 2000-2999 is 422 validation_failed naming the field, never a 500 or a cut 200', async () => {
    const cases: [path: string, field: string][] = [
      ['/api/admin/invoices/export?month=0000-01', 'month'],
      ['/api/admin/invoices/export?month=9999-12', 'month'],
      ['/api/admin/invoices/register?month=0000-01', 'month'],
      ['/api/admin/invoices/register?month=9999-12', 'month'],
      ['/api/admin/invoices/register?month=1999-12', 'month'],
      ['/api/admin/invoices?from=0000-01-01&to=2026-01-01', 'from'],
      ['/api/admin/invoices?from=2026-01-01&to=9999-12-31', 'to'],
      ['/api/admin/forecast?on=0000-01-01', 'on'],
      ['/api/admin/forecast?on=9999-12-31', 'on'],
      ['/api/admin/forecast?on=3000-01-01', 'on'],
    ];
    for (const [path, field] of cases) {
      const res = await t.op.get(path);
      assert.equal(res.status, 422, `${path}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'validation_failed', path);
      assert.deepEqual(Object.keys(res.body.error.fields), [field], path);
      assert.match(res.body.error.fields[field], /between 2000-01(-01)? and 2999-12(-31)?/, path);
    }
    // The edges themselves are fine.
    assert.equal((await t.op.get('/api/admin/invoices/register?month=2999-12')).status, 200);
    assert.equal((await t.op.get('/api/admin/invoices?from=2000-01-01&to=2999-12-31')).status, 200);
    assert.equal((await t.op.get('/api/admin/forecast?on=2026-07-01')).status, 200);
  });

  test('item 9: a path parameter over 100 characters is 404 not_found on every holder and operator route, as any id that does not exist', async () => {
    const h = await holder();
    const spec = (await t.op.get('/api/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    // Routes kept out of the OpenAPI document, with a parameter in the path.
    const hidden: [method: string, path: string][] = [
      ['GET', '/test-gateway/checkout/{id}'],
      ['POST', '/test-gateway/checkout/{id}'],
      ['GET', '/mailboxes/{id}'],
    ];
    const routes: [string, string][] = [...hidden];
    for (const [path, methods] of Object.entries(spec.paths)) {
      if (!path.includes('{')) continue;
      for (const method of Object.keys(methods)) routes.push([method.toUpperCase(), path]);
    }
    assert.ok(routes.filter(([, p]) => p.startsWith('/api/admin/')).length >= 8, 'operator routes with an id');
    assert.ok(routes.filter(([, p]) => p.startsWith('/api/') && !p.startsWith('/api/admin/')).length >= 8, 'holder routes with an id');
    for (const length of [100, 101, 300]) {
      for (const [method, path] of routes) {
        // At 100 characters the id is well formed, and a body is checked before any lookup.
        if (length === 100 && method !== 'GET') continue;
        const url = path.replace(/\{[^}]+\}/g, 'a'.repeat(length));
        const client = path.startsWith('/api/admin/') ? t.op : h.c;
        const res = await client.request(method, url, method === 'GET' || method === 'DELETE' ? undefined : {});
        assert.equal(res.status, 404, `${method} ${path} with a ${length}-character id: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
        if (path.startsWith('/api/')) assert.equal(res.body.error.code, 'not_found', `${method} ${path}`);
      }
    }
  });

  test('item 9: the VAT register is inert in a spreadsheet that splits its lines on ";" as Excel in Italian does', async () => {
    const h = await provisionHolder(t.op, { billingProfile: false });
    const attack = { ...BUSINESS_WITH_CODE, companyName: 'Rossi S.r.l.;=HYPERLINK("http://evil.example";"x");+1;@SUM(A1); -2' };
    assert.equal((await t.op.put(`/api/admin/customers/${h.customer.id}/billing-profile`, attack)).status, 200);
    const c = new Client(t.s.baseUrl);
    assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
    const started = await c.post('/api/credit/topups', { amountCents: 1000 });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const paid = await fetch(started.body.topup.checkoutUrl, { method: 'POST', body: new URLSearchParams({ cardNumber: GOOD_CARD, expiry: '12/34', cvc: '123' }), redirect: 'manual' });
    assert.equal(paid.status, 303);
    const res = await fetch(`${t.s.baseUrl}/api/admin/invoices/register?month=2026-06`, { headers: { authorization: `Bearer ${t.s.operatorToken}` } });
    assert.equal(res.status, 200);
    const csv = await res.text();
    const line = csv.split('\r\n').find((l) => l.includes('Rossi S.r.l.'));
    assert.ok(line, csv);
    for (const separator of [',', ';']) {
      for (const cell of line.split(separator)) {
        assert.doesNotMatch(cell, /^[\s"]*[=+\-@]/, `a cell when split on "${separator}": ${cell} (line ${line})`);
      }
    }
    assert.ok(line.includes("'=HYPERLINK"), 'the name is kept, made inert');
  });

  test('item 10: the operator\'s customer is checked as the holder\'s forms check it: codice fiscale with its check character, e-mail, locale named', async () => {
    const base = { name: 'Studio Nuovo', referenceEmail: 'nuovo@example.com' };
    const expectField = async (body: Record<string, unknown>, field: string, message: RegExp) => {
      const res = await t.op.post('/api/admin/customers', body);
      assert.equal(res.status, 422, `${JSON.stringify(body)}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'validation_failed');
      assert.match(res.body.error.fields[field] ?? '', message, JSON.stringify(res.body));
      assert.doesNotMatch(JSON.stringify(res.body), RAW_SCHEMA_WORDS);
    };
    await expectField({ ...base, taxCode: 'XYZ' }, 'taxCode', /16 characters/);
    await expectField({ ...base, taxCode: 'RSSMRA85T10A562X' }, 'taxCode', /check character/);
    await expectField({ ...base, taxCode: '00488410011' }, 'taxCode', /check digit/);
    await expectField({ ...base, referenceEmail: 'not-an-address' }, 'referenceEmail', /address/);
    await expectField({ ...base, locale: 'fr' }, 'locale', /^must be one of "it", "en"$/);
    await expectField({ ...base, name: '   ' }, 'name', /must not be empty/);
    await expectField({ ...base, taxCode: 42 }, 'taxCode', /^must be text or null$/);

    const person = await t.op.post('/api/admin/customers', { ...base, taxCode: 'rssmra85t10a562s' });
    assert.equal(person.status, 201, JSON.stringify(person.body));
    assert.equal(person.body.customer.taxCode, 'RSSMRA85T10A562S', 'stored as the Agenzia writes it');
    const company = await t.op.post('/api/admin/customers', { ...base, taxCode: '00488410010' });
    assert.equal(company.status, 201, JSON.stringify(company.body));
  });

  test('item 10: the operator\'s mailbox password follows the holder\'s strength rule; an unknown type names the allowed ones', async () => {
    const h = await holder();
    const mailbox = (over: Record<string, unknown>) =>
      t.op.post('/api/admin/mailboxes', { customerId: h.customer.id, address: `nuova.${process.pid}@pec.casella.test`, password: 'Segreta-Casella-9', type: 'standard', expiresOn: '2027-01-01', ...over });
    for (const [password, why] of [
      ['password', /at least 10 characters/],
      ['passwordpassword', /mix at least two/],
      [`nuova.${process.pid}-2026`, /must not contain the mailbox address/],
    ] as const) {
      const res = await mailbox({ password });
      assert.equal(res.status, 422, `${password}: ${res.status}`);
      assert.match(res.body.error.fields.password, why);
    }
    const gold = await mailbox({ type: 'gold' });
    assert.equal(gold.status, 422);
    assert.equal(gold.body.error.fields.type, 'must be one of "standard", "pro"');
    assert.doesNotMatch(JSON.stringify(gold.body), RAW_SCHEMA_WORDS);

    const weak = await t.op.patch(`/api/admin/mailboxes/${h.mailbox.id}`, { password: 'password' });
    assert.equal(weak.status, 422);
    assert.match(weak.body.error.fields.password, /at least 10 characters/);
    assert.equal((await h.c.get('/api/me')).status, 200, 'a refused change ends no session');
    assert.equal((await t.op.patch('/api/admin/mailboxes/mbx_none', { password: 'Segreta-Casella-9' })).status, 404);
    assert.equal((await mailbox({})).status, 201);
    assert.equal((await t.op.patch(`/api/admin/mailboxes/${h.mailbox.id}`, { password: 'Un-altra-segreta-42' })).status, 200);
  });

  test('item 10: every validation message, holder\'s and operator\'s, is a sentence, never the schema library\'s words', async () => {
    const h = await holder();
    const cases: [label: string, call: () => Promise<{ status: number; body: any }>, field: string, message: string][] = [
      ['amountCents 1.5', () => t.op.post(`/api/admin/customers/${h.customer.id}/credit-adjustments`, { amountCents: 1.5, reason: 'x' }), 'amountCents', 'must be a whole number'],
      ['referenceEmail 5', () => t.op.post('/api/admin/customers', { name: 'X', referenceEmail: 5 }), 'referenceEmail', 'must be text'],
      ['usedBytes -1', () => t.op.patch(`/api/admin/mailboxes/${h.mailbox.id}`, { usedBytes: -1 }), 'usedBytes', 'must be 0 or more'],
      ['name empty', () => t.op.post('/api/admin/customers', { name: '', referenceEmail: 'a@example.com' }), 'name', 'must not be empty'],
      ['month 2026-1', () => t.op.get('/api/admin/invoices/register?month=2026-1'), 'month', 'must be a month YYYY-MM'],
      ['on 2026/07/01', () => t.op.get('/api/admin/forecast?on=2026%2F07%2F01'), 'on', 'must be a date YYYY-MM-DD'],
      ['status unknown', () => t.op.get('/api/admin/invoices?from=2026-01-01&to=2026-02-01&status=lost'), 'status', 'must be one of "issued", "sent", "delivered", "rejected", "not_delivered"'],
      ['a list for a body', () => t.op.post('/api/admin/customers', []), 'body', 'must be an object'],
      ['autoRenew "yes"', () => h.c.patch(`/api/mailboxes/${h.mailbox.id}`, { autoRenew: 'yes' }), 'autoRenew', 'must be true or false'],
      ['quantityGb 0', () => h.c.post(`/api/mailboxes/${h.mailbox.id}/extra-space/quote`, { quantityGb: 0 }), 'quantityGb', 'must be 1 or more'],
      ['reason too long', () => t.op.post(`/api/admin/customers/${h.customer.id}/credit-adjustments`, { amountCents: 1, reason: 'x'.repeat(501) }), 'reason', 'must be at most 500 characters'],
    ];
    // An unknown field in a body that may also be null names the field, not "must be null".
    const unknown = await t.op.post('/api/admin/jobs/daily', { x: 1 });
    assert.equal(unknown.status, 422);
    assert.deepEqual(unknown.body.error.fields, { x: 'is not a known field' });
    for (const [label, call, field, message] of cases) {
      const res = await call();
      assert.equal(res.status, 422, `${label}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.fields?.[field], message, `${label}: ${JSON.stringify(res.body)}`);
      assert.doesNotMatch(JSON.stringify(res.body), RAW_SCHEMA_WORDS, label);
    }
  });
});
