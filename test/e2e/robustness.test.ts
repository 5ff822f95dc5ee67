// Attacks on the edges of the HTTP server, on each engine: hostile URLs, headers and content types
// (never a 500, always API.md's error shape on /api paths, always the security headers), concurrent
// creation of one address, malformed and look-alike addresses, concurrent retries of one key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Client, forEachServer, provisionHolder } from '../support/http.ts';

interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** One request written byte for byte, as no HTTP client would send it. */
function rawRequest(baseUrl: string, request: string | Buffer): Promise<RawResponse> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(request));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
      const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4) });
    });
  });
}

/** A request as latin1 bytes: every character below 256 is sent as the one byte it stands for. */
const request = (method: string, target: string, headers: Record<string, string> = {}, body = '') =>
  Buffer.from(
  `${method} ${target} HTTP/1.1\r\nhost: casella.test\r\nconnection: close\r\n` +
  Object.entries({ ...headers, ...(body ? { 'content-length': String(Buffer.byteLength(body, 'latin1')) } : {}) })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('') +
  `\r\n${body}`,
    'latin1',
  );

function assertAnsweredSafely(what: string, res: RawResponse, apiPath: boolean) {
  assert.ok(res.status >= 200 && res.status < 500, `${what}: status ${res.status} ${res.body.slice(0, 200)}`);
  for (const h of ['content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy']) {
    assert.ok(res.headers.has(h), `${what}: no ${h} header (status ${res.status})`);
  }
  const location = res.headers.get('location');
  if (location !== undefined) {
    assert.match(location, /^\/(?![/\\])[\x21-\x7e]*$/, `${what}: Location ${JSON.stringify(location)} is not a same-site ASCII path`);
  }
  if (apiPath && res.status >= 400) {
    const body = JSON.parse(res.body);
    assert.equal(typeof body.error?.code, 'string', `${what}: ${res.body}`);
    assert.equal(typeof body.error?.message, 'string', `${what}: ${res.body}`);
  }
}

forEachServer('Robustness attacks', (t) => {
  test('non-ASCII next answers 500: /lang/{lang}?next= redirects to a percent-encoded same-site path, never off site', async () => {
    const cases: [next: string, location: string][] = [
      ['/%E2%82%AC', '/%E2%82%AC'],
      ['/%C3%A9', '/%C3%A9'],
      ['/mailboxes?x=%E2%82%AC#%C3%A9', '/mailboxes?x=%E2%82%AC#%C3%A9'],
      ['/%E2%82', '/%E2%82'],
      ['//evil.com', '/'],
      ['/%5Cevil.com', '/'],
      ['/.//evil.com', '/'],
      ['https://evil.com/', '/'],
      ['/%0d%0aSet-Cookie:%20x=1', '/'],
    ];
    for (const [next, location] of cases) {
      for (const lang of ['en', 'xx']) {
        const res = await rawRequest(t.s.baseUrl, request('GET', `/lang/${lang}?next=${next}`));
        assertAnsweredSafely(`next=${next}`, res, false);
        assert.equal(res.status, 303, next);
        assert.equal(res.headers.get('location'), location, next);
      }
    }
  });

  test('hostile URLs and headers: malformed percent-encoding, raw bytes, huge headers, garbage: never a 500, always the error shape and the security headers', async () => {
    const cases: [what: string, req: string | Buffer, apiPath: boolean][] = [
      ['malformed percent-encoding in an /api path', request('GET', '/api/mailboxes/%E0%A4%A'), true],
      ['a lone % in an /api path', request('GET', '/api/%'), true],
      ['malformed percent-encoding in a page path', request('GET', '/mailboxes/%ZZ'), false],
      ['malformed percent-encoding in the query', request('GET', '/api/me?x=%E0%A4%A&y=%'), true],
      ['malformed percent-encoding in next', request('GET', '/login?next=%'), false],
      ['a raw non-ASCII byte in the path', Buffer.from('GET /api/mailboxes/\xe9 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n', 'latin1'), true],
      ['a path that is not a path', request('GET', 'evil.com/api/me'), true],
      ['huge header', request('GET', '/api/me', { 'x-big': 'x'.repeat(20_000) }), true],
      ['huge cookie', request('GET', '/api/me', { cookie: `casella_session=${'y'.repeat(100_000)}` }), true],
      ['garbage instead of HTTP', 'GARBAGE\r\n\r\n', true],
      ['a bad Idempotency-Key', request('POST', '/api/admin/customers', { authorization: `Bearer ${t.s.operatorToken}`, 'content-type': 'application/json', 'idempotency-key': '' }, '{}'), true],
      ['a non-ASCII x-request-id', Buffer.from(`GET /api/me HTTP/1.1\r\nhost: x\r\nx-request-id: \xe9\xe9\r\nconnection: close\r\n\r\n`, 'latin1'), true],
    ];
    for (const [what, req, apiPath] of cases) assertAnsweredSafely(what, await rawRequest(t.s.baseUrl, req), apiPath);
  });

  test('bad content types on every route group: never a 500, always the error shape and the security headers', async () => {
    const h = await provisionHolder(t.op);
    const holder = new Client(t.s.baseUrl);
    assert.equal((await holder.login(h.mailbox.address, h.password)).status, 200);
    const routes: [method: string, path: string, auth: Record<string, string>][] = [
      ['POST', '/api/session', {}],
      ['POST', `/api/mailboxes/${h.mailbox.id}/extra-space/orders`, { cookie: holder.cookie, 'x-csrf-token': holder.csrfToken }],
      ['POST', '/api/credit/topups', { cookie: holder.cookie, 'x-csrf-token': holder.csrfToken }],
      ['POST', '/api/admin/mailboxes', { authorization: `Bearer ${t.s.operatorToken}` }],
      ['POST', '/api/payments/webhook/test', {}],
      ['PUT', '/api/test/clock', { authorization: `Bearer ${t.s.operatorToken}` }],
      ['POST', '/login', {}],
    ];
    const bodies: [contentType: string, body: string][] = [
      ['text/plain', 'a=b'],
      ['application/xml', '<a/>'],
      ['application/json', '{"quantityGb":'],
      ['application/json; charset=utf-16', '{}'],
      ['multipart/form-data; boundary=x', '--x\r\n'],
      ['application/x-www-form-urlencoded', '%E0%A4%A=%&a'],
      ['application/x-www-form-urlencoded; charset=latin1', 'a=\xe9'],
      ['\u00e9/\u00e9', 'x'],
      ['', 'x'],
    ];
    for (const [method, path, auth] of routes) {
      for (const [contentType, body] of bodies) {
        const req = request(method, path, { ...auth, 'content-type': contentType }, body);
        assertAnsweredSafely(`${method} ${path} as ${contentType}`, await rawRequest(t.s.baseUrl, req), path.startsWith('/api/'));
      }
    }
  });

  test('concurrent creation of one mailbox address answers 500: 20 parallel creates give one 201 and 422 naming address', async () => {
    const h = await provisionHolder(t.op);
    const address = `contesa.${process.pid}@pec.casella.test`;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.op.post('/api/admin/mailboxes', { customerId: h.customer.id, address: i % 2 ? address : address.toUpperCase(), password: 'segreta-casella-1', type: 'standard', expiresOn: '2027-01-01' }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, ...Array(19).fill(422)], JSON.stringify(results.filter((r) => r.status !== 201 && r.status !== 422).map((r) => r.body)));
    for (const r of results.filter((x) => x.status === 422)) {
      assert.equal(r.body.error.code, 'validation_failed');
      assert.ok(r.body.error.fields.address, JSON.stringify(r.body));
    }
  });

  test('malformed and look-alike addresses are accepted: the operator API refuses them with 422 naming the field', async () => {
    const h = await provisionHolder(t.op);
    const bad = ['a@b.c/../x', 'a@b..c', '.a@b.c', 'a@-b.c', 'ad\u202Emin@pec.casella.test', 'a\u200B@pec.casella.test', '\uFF41@pec.casella.test', 'a@pec.casella.test\u200B'];
    for (const address of bad) {
      const m = await t.op.post('/api/admin/mailboxes', { customerId: h.customer.id, address, password: 'segreta-casella-1', type: 'standard', expiresOn: '2027-01-01' });
      assert.equal(m.status, 422, `address ${JSON.stringify(address)}: ${JSON.stringify(m.body)}`);
      assert.ok(m.body.error.fields.address, JSON.stringify(m.body));
      const c = await t.op.post('/api/admin/customers', { name: 'Studio', referenceEmail: address });
      assert.equal(c.status, 422, `referenceEmail ${JSON.stringify(address)}: ${JSON.stringify(c.body)}`);
      assert.ok(c.body.error.fields.referenceEmail, JSON.stringify(c.body));
    }
    const c = await t.op.post('/api/admin/customers', { name: 'Studio', referenceEmail: 'Mario.Rossi@Example.COM' });
    assert.equal(c.status, 201);
    assert.equal(c.body.customer.referenceEmail, 'mario.rossi@example.com');
    const m = await t.op.post('/api/admin/mailboxes', { customerId: h.customer.id, address: `Box.${process.pid}@PEC.Casella.Test`, password: 'segreta-casella-1', type: 'standard', expiresOn: '2027-01-01' });
    assert.equal(m.status, 201);
    assert.equal(m.body.mailbox.address, `box.${process.pid}@pec.casella.test`);
    // The holder logs in with the address as typed, whatever its case.
    assert.equal((await new Client(t.s.baseUrl).login(`BOX.${process.pid}@pec.casella.TEST`, 'segreta-casella-1')).status, 200);
  });

  test('idempotency keys stuck in progress: concurrent retries of one key all answer the one order, charged once', async () => {
    const h = await provisionHolder(t.op, { creditCents: 10_000, expiresOn: '2026-12-01' });
    const c = new Client(t.s.baseUrl);
    assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
    const key = { 'idempotency-key': `burst-${process.pid}` };
    const results = await Promise.all(Array.from({ length: 10 }, () => c.post(`/api/mailboxes/${h.mailbox.id}/extra-space/orders`, { quantityGb: 1 }, key)));
    assert.deepEqual(results.map((r) => r.status), Array(10).fill(201), JSON.stringify(results.map((r) => r.body)));
    assert.equal(new Set(results.map((r) => r.body.order.id)).size, 1);
    const orders = (await c.get('/api/orders')).body.orders;
    assert.equal(orders.length, 1);
    const credit = (await c.get('/api/credit')).body;
    assert.equal(credit.balanceCents, 10_000 - orders[0].amountCents);
  });

  test('keyed purchases racing on one mailbox: each buys its GB once, even when the first plan saw the add-on stale and was redone', async () => {
    const h = await provisionHolder(t.op, { creditCents: 20 * 300, expiresOn: '2026-12-01' });
    const c = new Client(t.s.baseUrl);
    assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => c.post(`/api/mailboxes/${h.mailbox.id}/extra-space/orders`, { quantityGb: 1 }, { 'idempotency-key': `race-${process.pid}-${i}` })),
    );
    assert.deepEqual(results.map((r) => [r.status, r.body.order?.status]), Array(20).fill([201, 'completed']));
    const mailbox = (await c.get(`/api/mailboxes/${h.mailbox.id}`)).body.mailbox;
    assert.equal(mailbox.space.extraGb, 20);
    const credit = (await c.get('/api/credit')).body;
    assert.equal(credit.balanceCents, 0);
    assert.equal(credit.transactions.filter((t: { kind: string }) => t.kind === 'purchase').length, 20);
    assert.equal((await t.op.get('/api/admin/ledger/verify')).body.ok, true);
  });
});
