// `casella bench topups --seconds S --concurrency C`: C holders each start a card top-up and have
// it paid (the test gateway's signed notification to the webhook) as fast as they can for S
// seconds, against a running server. The notification's transaction is the one that credits the
// wallet and, since R15, issues the invoice: its latency is what the invoice costs a payment.
// The server must run with PAYMENT_GATEWAY=test and CASELLA_TEST_GATEWAY_SECRET, passed here too.
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { signPayload } from '../src/payments/signature.ts';
import { peakRssMb, progress } from '../src/cli/progress.ts';
import { Api, percentile } from './purchase.ts';

export const topupSecondsMax = 3600;
export const topupConcurrencyMax = 256;

const BILLING = {
  kind: 'person',
  givenName: 'Mario',
  familyName: 'Rossi',
  taxCode: 'RSSMRA85T10A562S',
  address: { street: 'Via Roma', streetNumber: '1', postalCode: '00184', city: 'Roma', province: 'RM', country: 'IT' },
};

export interface TopupBenchResult {
  seconds: number;
  concurrency: number;
  payments: number;
  paymentsPerSecond: number;
  paymentP50Ms: number;
  paymentP99Ms: number;
  errors: number;
  peakRssMb: number;
}

export async function runTopupBench(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '8' },
      url: { type: 'string' },
      token: { type: 'string' },
      secret: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  const token = values.token ?? process.env.CASELLA_OPERATOR_TOKEN;
  const secret = values.secret ?? process.env.CASELLA_TEST_GATEWAY_SECRET;
  const base = (values.url ?? process.env.PUBLIC_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  if (!(seconds > 0 && seconds <= topupSecondsMax) || !Number.isInteger(concurrency) || concurrency < 1 || concurrency > topupConcurrencyMax || !token || !secret) {
    console.error(
      `usage: casella bench topups --seconds S --concurrency C [--url URL] [--token OPERATOR_TOKEN] [--secret TEST_GATEWAY_SECRET] [--json]\n` +
        `  (0 < S ≤ ${topupSecondsMax}, 1 ≤ C ≤ ${topupConcurrencyMax}; token and secret default to CASELLA_OPERATOR_TOKEN and CASELLA_TEST_GATEWAY_SECRET)`,
    );
    return 2;
  }
  const api = new Api(base, token);
  try {
    const runId = Date.now().toString(36);
    const expiresOn = new Date(Date.now() + 300 * 86_400_000).toISOString().slice(0, 10);
    const bar = progress('provisioning');
    const holders: { cookie: string; csrf: string }[] = [];
    for (let h = 0; h < concurrency; h++) {
      const { customer } = await api.admin('POST', '/api/admin/customers', { name: `Bench ${runId} ${h}`, referenceEmail: `topup-${runId}-${h}@example.com` });
      const address = `topup-${runId}-${h}@pec.bench.test`;
      await api.admin('POST', '/api/admin/mailboxes', { customerId: customer.id, address, password: 'bench-password-1', type: 'standard', expiresOn });
      // R15 builds need billing data first; a build from before R15 has no such call (404) and needs none.
      const billing = await api.call('PUT', `/api/admin/customers/${customer.id}/billing-profile`, BILLING, { authorization: `Bearer ${token}` });
      if (billing.status !== 200 && billing.status !== 404) throw new Error(`billing profile: ${billing.status} ${JSON.stringify(billing.json)}`);
      const login = await api.call('POST', '/api/session', { address, password: 'bench-password-1' });
      if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
      holders.push({ cookie: login.cookies.map((c) => c.split(';')[0]).join('; '), csrf: login.json.csrfToken });
    }
    bar.done(`${concurrency} holders`);

    const latencies: number[] = [];
    let errors = 0;
    const samples: string[] = [];
    const run = progress('paying');
    const started = performance.now();
    const deadline = started + seconds * 1000;
    const ticker = setInterval(() => run.update(`${latencies.length} payments, ${errors} errors`), 500);
    await Promise.all(
      holders.map(async (h) => {
        while (performance.now() < deadline) {
          const created = await api.call('POST', '/api/credit/topups', { amountCents: 1000 }, { cookie: h.cookie, 'x-csrf-token': h.csrf });
          if (created.status !== 201) {
            errors++;
            if (samples.length < 5) samples.push(`topup ${created.status} ${JSON.stringify(created.json)}`);
            continue;
          }
          const body = JSON.stringify({ id: `evt_${randomBytes(12).toString('hex')}`, topupId: created.json.topup.id, outcome: 'succeeded', failureCode: null });
          const t0 = performance.now();
          const paid = await api.call('POST', '/api/payments/webhook/test', JSON.parse(body), {
            'casella-signature': signPayload(secret, body, Math.floor(Date.now() / 1000)),
          });
          const ms = performance.now() - t0;
          if (paid.status === 200 && paid.json?.result === 'applied') latencies.push(ms);
          else {
            errors++;
            if (samples.length < 5) samples.push(`webhook ${paid.status} ${JSON.stringify(paid.json)}`);
          }
        }
      }),
    );
    clearInterval(ticker);
    const elapsed = (performance.now() - started) / 1000;
    run.done(`${latencies.length} payments in ${elapsed.toFixed(1)} s, ${errors} errors`);
    for (const s of samples) console.error(`  error: ${s}`);
    const sorted = [...latencies].sort((a, b) => a - b);
    const result: TopupBenchResult = {
      seconds: Math.round(elapsed * 100) / 100,
      concurrency,
      payments: latencies.length,
      paymentsPerSecond: Math.round((latencies.length / elapsed) * 10) / 10,
      paymentP50Ms: Math.round(percentile(sorted, 50) * 10) / 10,
      paymentP99Ms: Math.round(percentile(sorted, 99) * 10) / 10,
      errors,
      peakRssMb: peakRssMb(),
    };
    if (values.json) console.log(JSON.stringify(result));
    else console.log(`top-ups paid: ${result.paymentsPerSecond}/s (create + pay), payment p50 ${result.paymentP50Ms} ms, p99 ${result.paymentP99Ms} ms, ${errors} errors`);
    return errors === 0 ? 0 : 1;
  } finally {
    api.close();
  }
}
