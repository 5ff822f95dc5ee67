// R20 and API.md "Metrics": GET /metrics in Prometheus text format, from loopback or with the
// CASELLA_METRICS_TOKEN bearer token (otherwise 404); the metrics API.md names, counted where things
// happen; label values bounded (route templates, never ids or addresses); backlogs read at scrape
// time. And the request id: every answer carries x-request-id, errors included, and the log line
// of that request has the same id.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { clock } from '../../src/clock.ts';
import { testNotification, TEST_SIGNATURE_HEADER } from '../../src/payments/test-gateway.ts';
import { terminalLine } from '../../src/http/log-format.ts';
import { engineNames } from '../support/engines.ts';
import { Client, provisionHolder, startTestServer, type TestServer } from '../support/http.ts';

const METRICS_TOKEN = randomBytes(24).toString('hex');

/** The value of one series in a Prometheus text exposition; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

for (const engine of engineNames()) {
  describe(`metrics [${engine}]`, () => {
    let s: TestServer;
    let op: Client;
    before(async () => {
      clock.setRome('2027-01-15T10:00');
      s = await startTestServer(engine, { CASELLA_METRICS_TOKEN: METRICS_TOKEN });
      op = new Client(s.baseUrl, s.operatorToken);
    });
    after(async () => s?.close());

    const scrape = async (headers: Record<string, string> = {}) => {
      const res = await fetch(`${s.baseUrl}/metrics`, { headers });
      return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
    };

    test('from loopback: Prometheus text with every metric API.md names, and the process and pool metrics an operator graphs', async () => {
      const m = await scrape();
      assert.equal(m.status, 200);
      assert.match(m.type, /^text\/plain; version=0\.0\.4/);
      for (const name of [
        'casella_http_requests_total',
        'casella_http_request_duration_seconds',
        'casella_daily_job_runs_total',
        'casella_daily_job_duration_seconds',
        'casella_renewals_total',
        'casella_outbox_pending',
        'casella_sdi_pending',
        'casella_payments_total',
        'casella_refunds_total',
        'casella_login_failures_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_seconds',
      ]) {
        assert.match(m.text, new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, 'm'), name);
      }
      assert.match(m.text, /^# TYPE casella_http_request_duration_seconds histogram$/m);
      if (engine === 'postgres') assert.match(m.text, /^casella_db_pool_connections\{state="idle"\} \d+$/m);
    });

    test('from outside (a forwarded request): 404 in API.md shape, unless it brings the token', async () => {
      const forwarded = { 'x-forwarded-for': '203.0.113.7' };
      const refused = await scrape(forwarded);
      assert.equal(refused.status, 404);
      assert.deepEqual(JSON.parse(refused.text), { error: { code: 'not_found', message: 'Not found' } });
      assert.equal((await scrape({ ...forwarded, authorization: `Bearer ${METRICS_TOKEN}x` })).status, 404);
      assert.equal((await scrape({ ...forwarded, authorization: `Bearer ${METRICS_TOKEN}` })).status, 200);
    });

    test('routes are counted as templates: no id, no address and no unknown path becomes a label', async () => {
      const h = await provisionHolder(op, { expiresOn: '2027-12-01', creditCents: 10_000 });
      const c = new Client(s.baseUrl);
      assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
      assert.equal((await c.post(`/api/mailboxes/${h.mailbox.id}/extra-space/orders`, { quantityGb: 1 })).status, 201);
      const probe = `probe-${randomBytes(6).toString('hex')}`;
      assert.equal((await c.get(`/api/orders/ord_${probe}`)).status, 404);
      assert.equal((await c.get(`/${probe}/wp-login.php`)).status, 404);
      const m = (await scrape()).text;
      assert.ok(!m.includes(probe), 'an id or path asked for is never a label');
      assert.ok(!m.includes(h.mailbox.id) && !m.includes(h.mailbox.address), 'no id or address in any label');
      assert.ok((sample(m, 'casella_http_requests_total{method="POST",route="/api/mailboxes/:id/extra-space/orders",status="201"}') ?? 0) >= 1, m);
      assert.ok((sample(m, 'casella_http_requests_total{method="GET",route="unmatched",status="404"}') ?? 0) >= 1);
      assert.ok((sample(m, 'casella_http_request_duration_seconds_count{method="POST",route="/api/mailboxes/:id/extra-space/orders"}') ?? 0) >= 1);
      // The purchase's e-mail waits in the outbox (no SMTP here): the backlog is read at scrape time.
      assert.ok((sample(m, 'casella_outbox_pending') ?? 0) >= 1);
    });

    test('failed logins, applied payments and daily runs are counted', async () => {
      const before = (await scrape()).text;
      const h = await provisionHolder(op, { expiresOn: '2027-12-01' });
      const c = new Client(s.baseUrl);
      assert.equal((await c.login(h.mailbox.address, 'not-the-password')).status, 401);
      assert.equal((await c.login(h.mailbox.address, h.password)).status, 200);
      const topup = await c.post('/api/credit/topups', { amountCents: 2500 });
      assert.equal(topup.status, 201);
      const n = testNotification(s.app.config.testGatewaySecret, { topupId: topup.body.topup.id, outcome: 'succeeded', failureCode: null }, Math.floor(Date.now() / 1000));
      const notify = () =>
        fetch(`${s.baseUrl}/api/payments/webhook/test`, { method: 'POST', headers: { 'content-type': 'application/json', [TEST_SIGNATURE_HEADER]: n.signature }, body: n.body }).then((r) => r.status);
      assert.equal(await notify(), 200);
      assert.equal(await notify(), 200); // a replay is acknowledged and not counted again
      assert.equal((await op.post('/api/admin/jobs/daily')).status, 200);
      const after = (await scrape()).text;
      const delta = (series: string) => (sample(after, series) ?? 0) - (sample(before, series) ?? 0);
      assert.equal(delta('casella_login_failures_total'), 1);
      assert.equal(delta('casella_payments_total{method="card",outcome="succeeded"}'), 1);
      assert.equal(delta('casella_daily_job_runs_total{outcome="done"}'), 1);
      assert.equal(delta('casella_daily_job_duration_seconds_count'), 1);
      assert.ok((sample(after, 'casella_sdi_pending') ?? -1) >= 0);
    });

    test('every answer carries x-request-id, errors included, and the log line of the request has it', async () => {
      const res = await fetch(`${s.baseUrl}/api/orders/nothing-here`);
      assert.equal(res.status, 401);
      const id = res.headers.get('x-request-id');
      assert.match(id ?? '', /^[\w.-]{1,64}$/);
      await res.arrayBuffer();
      const line = s.logs.find((l) => l.includes(`"reqId":"${id}"`));
      assert.ok(line, 'the request is logged under its id');
      assert.equal(JSON.parse(line!).res.statusCode, 401);
      // On a terminal the same line reads short, with the id.
      assert.match(terminalLine(line!), new RegExp(`^\\d\\d:\\d\\d:\\d\\d INFO  request completed GET /api/orders/nothing-here 401 [\\d.]+ ms \\[${id}\\]$`));
    });
  });
}
