// A local stand-in for the part of Stripe's API that Casella calls (R17 refunds, R18 saved cards),
// and for what the holder does on Stripe's hosted Checkout page. Each request is checked as Stripe's
// API reference describes it (secret key, form encoding, the parameters each call takes: an unknown
// one is refused with `parameter_unknown`, a missing one with `parameter_missing`), and answered with
// the objects and errors Stripe documents:
//  - a PaymentIntent confirmed off-session answers 200 `status: succeeded`, or 402 with
//    `error: {type: "card_error", code, decline_code, message, payment_intent}` (the PaymentIntent
//    back in `requires_payment_method`): `authentication_required`, `card_declined` with
//    `generic_decline` or `insufficient_funds`, `expired_card`;
//  - a repeated Idempotency-Key gets the first answer again (`Idempotent-Replayed: true`), and the
//    same key with other parameters a 400 `idempotency_error`;
//  - Checkout Sessions in `setup` and `payment` mode, SetupIntents with their payment method
//    expanded (`expand[]=payment_method`, or `expand[0]=payment_method` as Stripe's SDK sends it), Refunds;
//  - the API version a request names (`Stripe-Version`, which Stripe's SDK always sends): from
//    `2026-09-30.endive` on, a Checkout Session no longer takes `payment_method_types`
//    (docs.stripe.com/changelog/endive/2026-09-30/remove-payment-method-types-checkout-sessions).
// Events are signed as Stripe signs them (`Stripe-Signature: t=<unix seconds>,v1=<HMAC-SHA256 of
// "t.body">`), written here from Stripe's documentation rather than with Casella's own signer.
//
// One simplification: the hosted page lets any of the test cards below be saved, and the card's
// behaviour shows at the later off-session charge (Stripe's 4000000000000341 behaves so; the others
// stand for a card that was fine when saved and is refused later, which is what renewals meet).
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  form: Record<string, string>;
}

type Behaviour = 'succeeds' | 'generic_decline' | 'insufficient_funds' | 'expired_card' | 'authentication_required';

/** Stripe's test card numbers (docs.stripe.com/testing), and how a saved one answers a later off-session charge. */
export const STRIPE_TEST_CARDS: Record<string, Behaviour> = {
  '4242424242424242': 'succeeds',
  '5555555555554444': 'succeeds',
  '4000000000000341': 'generic_decline',
  '4000000000009995': 'insufficient_funds',
  '4000000000000069': 'expired_card',
  '4000002760003184': 'authentication_required',
};

type Json = Record<string, unknown>;
interface Answer { status: number; body: Json }

interface PaymentMethod { id: string; object: 'payment_method'; type: 'card'; customer: string | null; card: Json; created: number; behaviour: Behaviour }
interface CheckoutSession extends Json {
  id: string;
  object: 'checkout.session';
  mode: 'setup' | 'payment';
  status: 'open' | 'complete' | 'expired';
  payment_status: 'unpaid' | 'paid' | 'no_payment_required';
  url: string | null;
  customer: string | null;
  client_reference_id: string | null;
  metadata: Record<string, string>;
  currency: string | null;
  amount_total: number | null;
  setup_intent: string | null;
  payment_intent: string | null;
  payment_intent_metadata: Record<string, string>;
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const nowSeconds = () => Math.floor(Date.now() / 1000);

const invalid = (message: string, extra: Json = {}): Answer => ({ status: 400, body: { error: { type: 'invalid_request_error', message, ...extra } } });
const missing = (path: string, what: string): Answer => ({
  status: 404,
  body: { error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${what}: '${path}'` } },
});

/** The parameters a call takes: exact names, or patterns (metadata's keys are the caller's). */
function checkParams(form: Record<string, string>, allowed: (string | RegExp)[], required: string[]): Answer | null {
  for (const name of Object.keys(form)) {
    if (!allowed.some((a) => (typeof a === 'string' ? a === name : a.test(name)))) {
      return invalid(`Received unknown parameter: ${name}`, { code: 'parameter_unknown', param: name });
    }
  }
  for (const name of required) {
    if (form[name] === undefined || form[name] === '') return invalid(`Missing required param: ${name}.`, { code: 'parameter_missing', param: name });
  }
  return null;
}

const METADATA = /^metadata\[[^\]]{1,40}\]$/;
const metadataOf = (form: Record<string, string>, prefix = 'metadata') =>
  Object.fromEntries(Object.entries(form).flatMap(([k, v]) => {
    const m = new RegExp(`^${prefix.replace(/[[\]]/g, '\\$&')}\\[([^\\]]+)\\]$`).exec(k);
    return m ? [[m[1]!, v]] : [];
  }));
const positiveInteger = (v: string | undefined) => v !== undefined && /^[1-9]\d*$/.test(v);

export interface StripeStandIn {
  /** What STRIPE_API_BASE is set to: `http://127.0.0.1:<port>/v1`. */
  apiBase: string;
  secretKey: string;
  webhookSecret: string;
  /** Every API request, in order. */
  requests: SeenRequest[];
  /** Where events go (Casella's `/api/payments/webhook/stripe`), set once the server listens. */
  webhookUrl: string;
  /** While true, every API request answers 500 `api_error`, as Stripe does when it has trouble. */
  outage: boolean;
  session(sessionId: string): CheckoutSession | undefined;
  sessionOfUrl(url: string): CheckoutSession | undefined;
  paymentIntents(): Json[];
  /** The holder saves `cardNumber` on a setup session's page; Stripe then notifies the webhook (unless deliver is false). */
  completeSetup(sessionId: string, cardNumber: string, opts?: { expMonth?: number; expYear?: number; deliver?: boolean }): Promise<{ event: Json; delivered: Delivery | null }>;
  /** The holder pays a payment session on its page (3-D Secure done there); Stripe then notifies the webhook. */
  payCheckout(sessionId: string, opts?: { deliver?: boolean }): Promise<{ event: Json; delivered: Delivery | null }>;
  /** A session's 24 hours pass; Stripe notifies `checkout.session.expired` (unless deliver is false). */
  expireCheckout(sessionId: string, opts?: { deliver?: boolean }): Promise<{ event: Json; delivered: Delivery | null }>;
  /** Sends an event (again: Stripe retries and replays), signed with `secret` (the webhook's, unless a forger's). */
  deliver(event: Json, secret?: string): Promise<Delivery>;
  close(): Promise<void>;
}

export interface Delivery { status: number; body: any }

export async function startStripeStandIn(opts: { secretKey?: string; webhookSecret?: string } = {}): Promise<StripeStandIn> {
  const secretKey = opts.secretKey ?? `sk_test_${randomBytes(12).toString('hex')}`;
  const webhookSecret = opts.webhookSecret ?? `whsec_${randomBytes(16).toString('hex')}`;
  const requests: SeenRequest[] = [];
  const customers = new Map<string, Json>();
  const sessions = new Map<string, CheckoutSession>();
  const setupIntents = new Map<string, Json & { id: string; status: string; customer: string | null; payment_method: string | null }>();
  const paymentMethods = new Map<string, PaymentMethod>();
  const paymentIntents = new Map<string, Json & { id: string; amount: number; status: string }>();
  const refunds = new Map<string, Json>();
  const idempotent = new Map<string, { fingerprint: string; answer: Answer }>();

  const publicPaymentMethod = ({ behaviour: _b, ...pm }: PaymentMethod) => pm;
  const setupIntentView = (si: Json & { payment_method: string | null }, expand: boolean) => ({
    ...si,
    payment_method: expand && si.payment_method ? publicPaymentMethod(paymentMethods.get(si.payment_method)!) : si.payment_method,
  });
  const sessionView = ({ payment_intent_metadata: _m, ...s }: CheckoutSession) => s;

  function createCustomer(form: Record<string, string>): Answer {
    const bad = checkParams(form, [METADATA, 'email', 'name', 'description'], []);
    if (bad) return bad;
    const customer = { id: id('cus'), object: 'customer', created: nowSeconds(), metadata: metadataOf(form), livemode: false };
    customers.set(customer.id, customer);
    return { status: 200, body: customer };
  }

  function createSession(form: Record<string, string>, apiVersion: string | undefined): Answer {
    // Stripe's versions are dated; endive (2026-09-30) removed `payment_method_types` from this call.
    const pmtKey = Object.keys(form).find((k) => k.startsWith('payment_method_types'));
    if (pmtKey && apiVersion !== undefined && apiVersion.slice(0, 10) >= '2026-09-30') {
      return invalid(`Received unknown parameter: ${pmtKey}`, { code: 'parameter_unknown', param: pmtKey });
    }
    const bad = checkParams(
      form,
      [
        'mode', 'customer', 'client_reference_id', 'success_url', 'cancel_url', 'currency', 'payment_method_types[0]', METADATA,
        'line_items[0][quantity]', 'line_items[0][price_data][currency]', 'line_items[0][price_data][unit_amount]', 'line_items[0][price_data][product_data][name]',
        /^payment_intent_data\[metadata\]\[[^\]]{1,40}\]$/,
      ],
      ['mode', 'success_url'],
    );
    if (bad) return bad;
    if (form.mode !== 'setup' && form.mode !== 'payment') return invalid(`Invalid mode: must be one of payment, setup or subscription`, { param: 'mode' });
    if (form.customer !== undefined && !customers.has(form.customer)) return missing(form.customer, 'customer');
    if (form['payment_method_types[0]'] !== undefined && form['payment_method_types[0]'] !== 'card') return invalid('Only card is enabled on this account', { param: 'payment_method_types[0]' });
    const session: CheckoutSession = {
      id: `cs_test_${randomBytes(16).toString('hex')}`,
      object: 'checkout.session',
      mode: form.mode,
      status: 'open',
      payment_status: form.mode === 'setup' ? 'no_payment_required' : 'unpaid',
      url: '',
      customer: form.customer ?? null,
      client_reference_id: form.client_reference_id ?? null,
      metadata: metadataOf(form),
      currency: null,
      amount_total: null,
      setup_intent: null,
      payment_intent: null,
      success_url: form.success_url,
      cancel_url: form.cancel_url ?? null,
      created: nowSeconds(),
      expires_at: nowSeconds() + 24 * 3600,
      livemode: false,
      payment_intent_metadata: metadataOf(form, 'payment_intent_data[metadata]'),
    };
    if (form.mode === 'setup') {
      // Setup mode: no line items; a currency because Checkout's payment methods depend on it.
      if (Object.keys(form).some((k) => k.startsWith('line_items') || k.startsWith('payment_intent_data'))) {
        return invalid('You can not pass `line_items` or `payment_intent_data` in `setup` mode.');
      }
      if (!form.currency) return invalid('Missing required param: currency.', { code: 'parameter_missing', param: 'currency' });
      const si = { id: id('seti'), object: 'setup_intent', status: 'requires_payment_method', customer: session.customer, payment_method: null, usage: 'off_session', created: nowSeconds(), livemode: false };
      setupIntents.set(si.id, si);
      session.setup_intent = si.id;
      session.currency = form.currency;
    } else {
      if (form.currency !== undefined) return invalid('You can not pass `currency` with `line_items` that carry a price.', { param: 'currency' });
      if (form['line_items[0][quantity]'] !== '1' || form['line_items[0][price_data][currency]'] !== 'eur' || !positiveInteger(form['line_items[0][price_data][unit_amount]']) || !form['line_items[0][price_data][product_data][name]']) {
        return invalid('`line_items` must each have a quantity and price_data (currency, unit_amount in cents, product_data.name).', { param: 'line_items' });
      }
      const amount = Number(form['line_items[0][price_data][unit_amount]']);
      if (amount < 50) return invalid('The Checkout Session\'s total amount due must add up to at least €0.50 eur', { code: 'amount_too_small' });
      session.currency = 'eur';
      session.amount_total = amount;
    }
    session.url = `https://checkout.stripe.com/c/pay/${session.id}`;
    sessions.set(session.id, session);
    return { status: 200, body: sessionView(session) };
  }

  function confirmOffSession(form: Record<string, string>): Answer {
    const bad = checkParams(form, ['amount', 'currency', 'customer', 'payment_method', 'off_session', 'confirm', 'description', METADATA], ['amount', 'currency']);
    if (bad) return bad;
    if (!positiveInteger(form.amount)) return invalid('Invalid integer: amount', { param: 'amount' });
    if (Number(form.amount) < 50) return invalid('Amount must be at least €0.50 eur', { code: 'amount_too_small', param: 'amount' });
    if (form.currency !== 'eur') return invalid(`Invalid currency: ${form.currency}`, { param: 'currency' });
    if (form.off_session !== undefined && form.confirm !== 'true') return invalid('You can only pass in off_session when confirm is set to true.', { param: 'off_session' });
    if (form.off_session !== 'true' || form.confirm !== 'true') return invalid('Casella\'s stand-in takes only off-session confirmations here.', { param: 'off_session' });
    const pm = form.payment_method ? paymentMethods.get(form.payment_method) : undefined;
    if (!pm) return missing(form.payment_method ?? '', 'payment_method');
    if (!form.customer || !customers.has(form.customer)) return missing(form.customer ?? '', 'customer');
    if (pm.customer !== form.customer) {
      return invalid(`The provided PaymentMethod belongs to a different Customer than the one on this PaymentIntent.`, { param: 'payment_method' });
    }
    const pi = {
      id: id('pi'), object: 'payment_intent', amount: Number(form.amount), currency: 'eur', customer: form.customer, payment_method: pm.id,
      metadata: metadataOf(form), created: nowSeconds(), livemode: false, status: 'succeeded', amount_received: Number(form.amount), last_payment_error: null as Json | null,
      latest_charge: id('ch'),
    };
    paymentIntents.set(pi.id, pi);
    if (pm.behaviour === 'succeeds') return { status: 200, body: pi };
    const [code, decline_code, message] =
      pm.behaviour === 'authentication_required' ? ['authentication_required', 'authentication_required', 'Your card was declined. This transaction requires authentication.']
      : pm.behaviour === 'insufficient_funds' ? ['card_declined', 'insufficient_funds', 'Your card has insufficient funds.']
      : pm.behaviour === 'expired_card' ? ['expired_card', 'expired_card', 'Your card has expired.']
      : ['card_declined', 'generic_decline', 'Your card was declined.'];
    const error = { type: 'card_error', code, decline_code, message, doc_url: `https://stripe.com/docs/error-codes/${code}`, charge: pi.latest_charge, payment_method: publicPaymentMethod(pm) };
    Object.assign(pi, { status: 'requires_payment_method', amount_received: 0, last_payment_error: error });
    return { status: 402, body: { error: { ...error, payment_intent: pi } } };
  }

  function createRefund(form: Record<string, string>): Answer {
    const bad = checkParams(form, ['payment_intent', 'amount', METADATA], ['payment_intent']);
    if (bad) return bad;
    const pi = paymentIntents.get(form.payment_intent!);
    if (!pi || pi.status !== 'succeeded') return missing(form.payment_intent!, 'payment_intent');
    if (form.amount !== undefined && (!positiveInteger(form.amount) || Number(form.amount) > pi.amount)) {
      return invalid(`Refund amount (€${Number(form.amount) / 100}) is greater than charge amount (€${pi.amount / 100})`, { code: 'amount_too_large', param: 'amount' });
    }
    const refund = { id: id('re'), object: 'refund', amount: Number(form.amount ?? pi.amount), currency: 'eur', payment_intent: pi.id, status: 'succeeded', metadata: metadataOf(form), created: nowSeconds() };
    refunds.set(refund.id, refund);
    return { status: 200, body: refund };
  }

  function route(method: string, path: string, query: Record<string, string>, form: Record<string, string>, apiVersion: string | undefined): Answer {
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/v1/customers') return createCustomer(form);
    if (method === 'POST' && path === '/v1/checkout/sessions') return createSession(form, apiVersion);
    if (method === 'POST' && path === '/v1/payment_intents') return confirmOffSession(form);
    if (method === 'POST' && path === '/v1/refunds') return createRefund(form);
    if (method === 'GET' && (m = /^\/v1\/checkout\/sessions\/([^/]+)$/.exec(path))) {
      if (Object.keys(query).length) return invalid(`Received unknown parameter: ${Object.keys(query)[0]}`, { code: 'parameter_unknown' });
      const s = sessions.get(decodeURIComponent(m[1]!));
      return s ? { status: 200, body: sessionView(s) } : missing(m[1]!, 'checkout.session');
    }
    if (method === 'GET' && (m = /^\/v1\/setup_intents\/([^/]+)$/.exec(path))) {
      const unknown = Object.keys(query).find((k) => k !== 'expand[]' && k !== 'expand[0]');
      if (unknown) return invalid(`Received unknown parameter: ${unknown}`, { code: 'parameter_unknown', param: unknown });
      const si = setupIntents.get(decodeURIComponent(m[1]!));
      return si ? { status: 200, body: setupIntentView(si, Object.values(query).includes('payment_method')) } : missing(m[1]!, 'setup_intent');
    }
    if (method === 'GET' && (m = /^\/v1\/refunds\/([^/]+)$/.exec(path))) {
      const r = refunds.get(decodeURIComponent(m[1]!));
      return r ? { status: 200, body: r } : missing(m[1]!, 'refund');
    }
    return { status: 404, body: { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}).` } } };
  }

  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://stand-in');
      const form = Object.fromEntries(new URLSearchParams(raw));
      const query = Object.fromEntries(url.searchParams);
      requests.push({ method: req.method!, path: url.pathname, query, headers: req.headers, form });
      const send = (a: Answer, replayed = false) =>
        res.writeHead(a.status, { 'content-type': 'application/json', 'request-id': id('req'), ...(replayed ? { 'idempotent-replayed': 'true' } : {}) }).end(JSON.stringify(a.body));
      if (standIn.outage) return send({ status: 500, body: { error: { type: 'api_error', message: 'An unknown error occurred' } } });
      if (req.headers.authorization !== `Bearer ${secretKey}`) {
        return send({ status: 401, body: { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } } });
      }
      if (req.method === 'POST' && req.headers['content-type'] !== 'application/x-www-form-urlencoded') {
        return send(invalid('Stripe takes form-encoded parameters (application/x-www-form-urlencoded).'));
      }
      const key = req.headers['idempotency-key'];
      const fingerprint = `${req.method} ${url.pathname} ${JSON.stringify(Object.entries(form).sort())}`;
      if (req.method === 'POST' && typeof key === 'string') {
        const first = idempotent.get(key);
        if (first && first.fingerprint !== fingerprint) {
          return send({ status: 400, body: { error: { type: 'idempotency_error', message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.` } } });
        }
        if (first) return send(first.answer, true);
      }
      const version = req.headers['stripe-version'];
      if (version !== undefined && (typeof version !== 'string' || !/^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/.test(version))) {
        return send(invalid(`Invalid Stripe API version: ${String(version)}`));
      }
      const answer = route(req.method!, url.pathname, query, form, version);
      // Stripe saves the result of a request that began executing (not one refused at validation).
      if (req.method === 'POST' && typeof key === 'string' && answer.status !== 400) idempotent.set(key, { fingerprint, answer });
      send(answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const apiBase = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`;

  const standIn: StripeStandIn = {
    apiBase,
    secretKey,
    webhookSecret,
    requests,
    webhookUrl: '',
    outage: false,
    session: (sessionId) => sessions.get(sessionId),
    sessionOfUrl: (url) => [...sessions.values()].find((s) => s.url === url),
    paymentIntents: () => [...paymentIntents.values()],
    async deliver(event, secret = webhookSecret) {
      const body = JSON.stringify(event);
      const t = nowSeconds();
      const signature = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
      const res = await fetch(standIn.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${signature}` }, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* keep the text */
      }
      return { status: res.status, body: parsed };
    },
    async completeSetup(sessionId, cardNumber, o = {}) {
      const s = sessions.get(sessionId);
      if (!s || s.mode !== 'setup' || s.status !== 'open') throw new Error(`no open setup session ${sessionId}`);
      const behaviour = STRIPE_TEST_CARDS[cardNumber];
      if (!behaviour) throw new Error(`not one of the stand-in's test cards: ${cardNumber}`);
      const pm: PaymentMethod = {
        id: id('pm'), object: 'payment_method', type: 'card', customer: s.customer, created: nowSeconds(), behaviour,
        card: { brand: cardNumber.startsWith('5') ? 'mastercard' : 'visa', last4: cardNumber.slice(-4), exp_month: o.expMonth ?? 12, exp_year: o.expYear ?? 2034, country: 'IT', funding: 'credit', fingerprint: randomBytes(8).toString('hex') },
      };
      paymentMethods.set(pm.id, pm);
      Object.assign(setupIntents.get(s.setup_intent!)!, { status: 'succeeded', payment_method: pm.id });
      s.status = 'complete';
      s.url = null;
      const event = { id: id('evt'), object: 'event', type: 'checkout.session.completed', created: nowSeconds(), livemode: false, data: { object: sessionView(s) } };
      return { event, delivered: o.deliver === false ? null : await standIn.deliver(event) };
    },
    async payCheckout(sessionId, o = {}) {
      const s = sessions.get(sessionId);
      if (!s || s.mode !== 'payment' || s.status !== 'open') throw new Error(`no open payment session ${sessionId}`);
      const pi = {
        id: id('pi'), object: 'payment_intent', amount: s.amount_total!, currency: 'eur', customer: s.customer, status: 'succeeded', amount_received: s.amount_total!,
        metadata: s.payment_intent_metadata, created: nowSeconds(), livemode: false, latest_charge: id('ch'),
      };
      paymentIntents.set(pi.id, pi);
      Object.assign(s, { status: 'complete', payment_status: 'paid', payment_intent: pi.id, url: null });
      const event = { id: id('evt'), object: 'event', type: 'checkout.session.completed', created: nowSeconds(), livemode: false, data: { object: sessionView(s) } };
      return { event, delivered: o.deliver === false ? null : await standIn.deliver(event) };
    },
    async expireCheckout(sessionId, o = {}) {
      const s = sessions.get(sessionId);
      if (!s || s.status !== 'open') throw new Error(`no open session ${sessionId}`);
      Object.assign(s, { status: 'expired', url: null });
      const event = { id: id('evt'), object: 'event', type: 'checkout.session.expired', created: nowSeconds(), livemode: false, data: { object: sessionView(s) } };
      return { event, delivered: o.deliver === false ? null : await standIn.deliver(event) };
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  return standIn;
}
