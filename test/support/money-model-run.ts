// The model-based test of the money rules (issue 12 item 1): random sequences of holder and
// operator actions run against the real services and against the reference model of
// test/support/money-model.ts side by side. After every step: the balance equals the model's, the
// ledger verifies, every GB-day of active extra space is covered by what the database says was paid
// or granted free, and the mailboxes, add-ons and orders equal the model's.
// One runner for the suite (fixed seed, few runs) and `casella bench model` (many, random seeds).
import fc from 'fast-check';
import { Temporal } from 'temporal-polyfill';
import { randomUUID } from 'node:crypto';
import { clock } from '../../src/clock.ts';
import { addMonths, dateInRome } from '../../src/domain/calendar.ts';
import { verifyLedger } from '../../src/ledger/verify.ts';
import { SYSTEM } from '../../src/services/audit.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import { adjustCredit } from '../../src/services/billing/credit.ts';
import { runDailyJob } from '../../src/services/daily.ts';
import { DomainError } from '../../src/services/errors.ts';
import { setRenewalSwitches } from '../../src/services/mailboxes/mailbox-settings.ts';
import { cancelOrder, placeExtraSpaceOrder, placeRenewalOrder } from '../../src/services/billing/orders.ts';
import { createCustomer, createMailbox } from '../../src/services/mailboxes/provision.ts';
import { readBalance, readMailbox } from '../../src/services/rows.ts';
import { applyPaymentOutcome, createTopup } from '../../src/services/billing/topups.ts';
import { refundPayment } from '../../src/services/billing/refunds.ts';
import { applyDispute, readDisputedAndDebt } from '../../src/services/billing/disputes.ts';
import { testGateway } from '../../src/payments/test-gateway.ts';
import { saveBillingProfile } from '../../src/services/billing/billing-profiles.ts';
import { PERSON_PROFILE } from './billing.ts';
import { uniqueAddress } from './fixtures.ts';
import * as model from './money-model.ts';
import type { Day, Entitlement, MailboxType, Outcome, State, Step } from './money-model.ts';

const MINUTE_MS = 60_000;
const ROME = 'Europe/Rome';

/** The system under test for one run: a fresh holder and what the model's indexes name. */
export interface Real {
  ctx: ServiceContext;
  customerId: string;
  mailboxIds: string[];
  /** Real order ids, by the model's order index. */
  orderIds: string[];
  /** R17: real ids of paid top-ups, by the model's payment index. */
  topupIds: string[];
  /** What each step did, for the failure message. */
  trace: string[];
}

/** fast-check hands the same model object to every command: the state inside is replaced. */
export interface ModelBox {
  s: State;
}

// ---- The start of a run ----

export interface Start {
  /** Days after 2026-01-01 (three years: leap days and month ends come up). */
  startDay: number;
  creditCents: number;
  mailboxes: { type: MailboxType; daysToExpiry: number }[];
}

const startArb: fc.Arbitrary<Start> = fc.record({
  startDay: fc.integer({ min: 0, max: 3 * 365 }),
  creditCents: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10_000 })),
  // E within ~120 days: the 90-day window, the three-month rule, expiry, grace and termination all
  // happen within a run.
  mailboxes: fc.array(fc.record({ type: fc.constantFrom<MailboxType>('standard', 'pro'), daysToExpiry: fc.integer({ min: 1, max: 120 }) }), {
    minLength: 1,
    maxLength: 2,
  }),
});

const romeMs = (day: Temporal.PlainDate, time: string): number => day.toPlainDateTime(Temporal.PlainTime.from(time)).toZonedDateTime(ROME).epochMilliseconds;

async function setup(ctx: ServiceContext, start: Start): Promise<{ model: ModelBox; real: Real }> {
  const startOn = Temporal.PlainDate.from('2026-01-01').add({ days: start.startDay });
  const nowMs = romeMs(startOn, '10:00');
  clock.set(nowMs);
  const customer = await createCustomer(ctx, SYSTEM, { name: 'Studio Modello', referenceEmail: `model-${randomUUID()}@example.com` });
  await saveBillingProfile(ctx, SYSTEM, customer.id, PERSON_PROFILE);
  // Earlier runs' holders are left alone by the daily job from now on, so each run costs the same.
  await ctx.db.query(`UPDATE mailboxes SET status = 'terminated' WHERE customer_id <> $1 AND status <> 'terminated'`, [customer.id]);
  const mailboxIds: string[] = [];
  const mailboxes: model.Mailbox[] = [];
  for (const [i, m] of start.mailboxes.entries()) {
    const expiresOn = startOn.add({ days: m.daysToExpiry }).toString();
    // Prefixes a, b: the addresses sort in the model's order (the daily job's tie-break).
    const row = await createMailbox(ctx, SYSTEM, { customerId: customer.id, address: uniqueAddress(`model${'ab'[i]}`), password: 'password-1234', type: m.type, expiresOn });
    mailboxIds.push(row.id);
    mailboxes.push({ type: m.type, status: 'active', expiresOn, autoRenew: true, extraSpaceAutoRenew: true, addon: null, idRank: 0 });
  }
  const idsSorted = [...mailboxIds].sort();
  for (const [i, m] of mailboxes.entries()) m.idRank = idsSorted.indexOf(mailboxIds[i]!);
  if (start.creditCents > 0) await adjustCredit(ctx, SYSTEM, customer.id, start.creditCents, 'model test opening credit');
  const s: State = { nowMs, balance: start.creditCents, mailboxes, orders: [], lastDailyRunOn: null, payments: [], disputed: 0, debt: 0 };
  return { model: { s }, real: { ctx, customerId: customer.id, mailboxIds, orderIds: [], topupIds: [], trace: [`start ${startOn} ${JSON.stringify(start)}`] } };
}

// ---- Commands ----

type Actual = { ok: true; orderId?: string } | { ok: false; code: string };

async function outcomeOf(f: () => Promise<string | void>): Promise<Actual> {
  try {
    const orderId = await f();
    return orderId ? { ok: true, orderId } : { ok: true };
  } catch (e) {
    if (e instanceof DomainError) return { ok: false, code: e.code };
    throw e;
  }
}

/**
 * One action: it moves the clock a minute (so orders keep a strict age order, as the settlement's
 * "oldest first" needs), asks the model, does it for real, and compares the outcome and then the
 * whole state.
 */
abstract class Action implements fc.AsyncCommand<ModelBox, Real> {
  check(_m: Readonly<ModelBox>): boolean {
    return true;
  }

  /** The instant the action happens at. */
  protected when(s: State): number {
    return s.nowMs + MINUTE_MS;
  }

  protected abstract expect(s: State): Step;
  protected abstract act(s: State, r: Real): Promise<string | void>;
  abstract toString(): string;

  async run(m: ModelBox, r: Real): Promise<void> {
    const at: State = { ...m.s, nowMs: this.when(m.s) };
    clock.set(at.nowMs);
    const expected = this.expect(at);
    const actual = await outcomeOf(() => this.act(at, r));
    r.trace.push(`${model.today(at)} ${this} -> ${actual.ok ? 'ok' : actual.code}; model balance ${expected.state.balance}`);
    const problems = compareOutcome(expected.outcome, actual);
    if (actual.ok && actual.orderId) r.orderIds.push(actual.orderId);
    m.s = expected.state;
    problems.push(...(await stateProblems(m.s, r)));
    if (problems.length) throw new Error(`after ${this}:\n  ${problems.join('\n  ')}\nsteps:\n  ${r.trace.join('\n  ')}`);
  }
}

function compareOutcome(expected: Outcome, actual: Actual): string[] {
  if (expected.ok && actual.ok) return [];
  if (!expected.ok && !actual.ok && expected.codes.includes(actual.code)) return [];
  return [`outcome ${actual.ok ? 'ok' : actual.code}, model ${expected.ok ? 'ok' : expected.codes.join(' or ')}`];
}

const mailboxIndex = (s: State, pick: number): number => pick % s.mailboxes.length;
const mb = (pick: number): string => `mailbox ${pick % 2}`;

class BuyExtraSpace extends Action {
  constructor(readonly pick: number, readonly gb: number) {
    super();
  }
  expect(s: State) {
    return model.buyExtraSpace(s, mailboxIndex(s, this.pick), this.gb);
  }
  async act(s: State, r: Real) {
    return (await placeExtraSpaceOrder(r.ctx, r.customerId, r.mailboxIds[mailboxIndex(s, this.pick)]!, this.gb)).order.id;
  }
  toString() {
    return `buy ${this.gb} GB for ${mb(this.pick)}`;
  }
}

class PlaceRenewal extends Action {
  constructor(readonly pick: number) {
    super();
  }
  expect(s: State) {
    return model.placeRenewal(s, mailboxIndex(s, this.pick));
  }
  async act(s: State, r: Real) {
    return (await placeRenewalOrder(r.ctx, r.customerId, r.mailboxIds[mailboxIndex(s, this.pick)]!)).order.id;
  }
  toString() {
    return `renew ${mb(this.pick)} by hand`;
  }
}

/** Orders still marked waiting (some may be past their 24 hours: those test the refusals). */
const markedWaiting = (s: State): number[] => s.orders.flatMap((o, n) => (o.status === 'awaiting_topup' ? [n] : []));

type TopupAmount = { kind: 'shortfall' } | { kind: 'fixed'; cents: number };

class TopUp extends Action {
  constructor(readonly amount: TopupAmount, readonly target: number | null, readonly paid: boolean) {
    super();
  }
  private forOrder(s: State): number | null {
    const waiting = markedWaiting(s);
    return this.target === null || !waiting.length ? null : waiting[this.target % waiting.length]!;
  }
  /** The shortfall of the order it is for (or the oldest waiting one), at least the minimum. */
  private cents(s: State): number {
    if (this.amount.kind === 'fixed') return this.amount.cents;
    const n = this.forOrder(s) ?? markedWaiting(s)[0];
    const shortfall = n === undefined ? 0 : s.orders[n]!.amount - s.balance;
    return Math.max(shortfall, model.PRICES.topupMin);
  }
  expect(s: State) {
    return model.topUp(s, this.cents(s), this.forOrder(s), this.paid);
  }
  async act(s: State, r: Real) {
    const n = this.forOrder(s);
    const topup = await createTopup(r.ctx, r.customerId, this.cents(s), n === null ? null : r.orderIds[n]!, 'test');
    const outcome = this.paid ? 'succeeded' : 'failed';
    await applyPaymentOutcome(r.ctx, { gateway: 'test', eventId: `evt-${randomUUID()}`, topupId: topup.id, outcome, failureCode: this.paid ? null : 'card_declined' });
    if (this.paid) r.topupIds.push(topup.id);
  }
  toString() {
    const amount = this.amount.kind === 'fixed' ? `${this.amount.cents} cents` : 'the shortfall';
    return `top up ${amount}${this.target === null ? '' : ` for waiting order pick ${this.target}`}, ${this.paid ? 'paid' : 'declined'}`;
  }
}

class Cancel extends Action {
  constructor(readonly target: number) {
    super();
  }
  override check(m: Readonly<ModelBox>) {
    return markedWaiting(m.s).length > 0;
  }
  private order(s: State): number {
    const waiting = markedWaiting(s);
    return waiting[this.target % waiting.length]!;
  }
  expect(s: State) {
    return model.cancelOrder(s, this.order(s));
  }
  async act(s: State, r: Real) {
    await cancelOrder(r.ctx, r.customerId, r.orderIds[this.order(s)]!);
  }
  toString() {
    return `cancel waiting order pick ${this.target}`;
  }
}

class Switch extends Action {
  constructor(readonly pick: number, readonly which: 'autoRenew' | 'extraSpaceAutoRenew', readonly on: boolean) {
    super();
  }
  expect(s: State) {
    return model.setSwitch(s, mailboxIndex(s, this.pick), this.which, this.on);
  }
  async act(s: State, r: Real) {
    await setRenewalSwitches(r.ctx, { kind: 'holder', id: r.customerId }, r.customerId, r.mailboxIds[mailboxIndex(s, this.pick)]!, { [this.which]: this.on });
  }
  toString() {
    return `switch ${this.which} ${this.on ? 'on' : 'off'} for ${mb(this.pick)}`;
  }
}

/** An operator's adjustment: a credit, or a debit of a share of the balance (never below zero). */
class Adjust extends Action {
  constructor(readonly credit: number | null, readonly debitShare: number) {
    super();
  }
  override check(m: Readonly<ModelBox>) {
    return this.credit !== null || m.s.balance > 0;
  }
  private cents(s: State): number {
    return this.credit ?? -Math.max(1, Math.round(s.balance * this.debitShare));
  }
  expect(s: State) {
    return model.adjustCredit(s, this.cents(s));
  }
  async act(s: State, r: Real) {
    await adjustCredit(r.ctx, { kind: 'token', id: 'op_model' }, r.customerId, this.cents(s), 'model test adjustment');
  }
  toString() {
    return this.credit !== null ? `operator credits ${this.credit} cents` : `operator debits ${Math.round(this.debitShare * 100)} % of the balance`;
  }
}

const modelGateway = testGateway('model', () => 'http://casella.test');

/** R17: an operator refunds a share of what a payment has left (above 1: more than it has, refused). */
class Refund extends Action {
  constructor(readonly pick: number, readonly share: number) {
    super();
  }
  override check(m: Readonly<ModelBox>) {
    return m.s.payments.length > 0;
  }
  private payment(s: State): number {
    return this.pick % s.payments.length;
  }
  private cents(s: State): number {
    const p = s.payments[this.payment(s)]!;
    return Math.max(1, Math.round((p.net - p.refundedNet) * this.share));
  }
  expect(s: State) {
    return model.refund(s, this.payment(s), this.cents(s));
  }
  async act(s: State, r: Real) {
    await refundPayment(r.ctx, modelGateway, { kind: 'token', id: 'op_model' }, r.topupIds[this.payment(s)]!, this.cents(s), 'model test refund', null);
  }
  toString() {
    return `refund ${Math.round(this.share * 100)} % of what payment pick ${this.pick} has left`;
  }
}

/** R17: the gateway's charge-back notification about a payment. */
class Dispute extends Action {
  constructor(readonly pick: number, readonly status: 'opened' | 'won' | 'lost') {
    super();
  }
  override check(m: Readonly<ModelBox>) {
    return m.s.payments.length > 0;
  }
  expect(s: State) {
    return model.dispute(s, this.pick % s.payments.length, this.status);
  }
  async act(s: State, r: Real) {
    await applyDispute(r.ctx, { gateway: 'test', eventId: `dsp-${randomUUID()}`, topupId: r.topupIds[this.pick % s.payments.length]!, paymentReference: null, status: this.status });
  }
  toString() {
    return `charge-back ${this.status} on payment pick ${this.pick}`;
  }
}

/** Whole days on the Rome wall clock (so 23- and 25-hour days come up around DST). */
class MoveClock extends Action {
  constructor(readonly days: number) {
    super();
  }
  protected override when(s: State): number {
    return Temporal.Instant.fromEpochMilliseconds(s.nowMs).toZonedDateTimeISO(ROME).add({ days: this.days }).epochMilliseconds;
  }
  expect(s: State) {
    return model.moveClock(s, s.nowMs);
  }
  async act() {}
  toString() {
    return `move the clock ${this.days} days`;
  }
}

/**
 * Hours: a waiting order lives 24 hours, so only a move shorter than a day lets one cross midnight
 * and meet a new date (a renewal window opening, an expiry) before a top-up settles it.
 */
class MoveClockHours extends Action {
  constructor(readonly hours: number) {
    super();
  }
  protected override when(s: State): number {
    return s.nowMs + this.hours * 60 * MINUTE_MS;
  }
  expect(s: State) {
    return model.moveClock(s, s.nowMs);
  }
  async act() {}
  toString() {
    return `move the clock ${this.hours} hours`;
  }
}

class DailyJob extends Action {
  expect(s: State) {
    return model.dailyJob(s);
  }
  async act(_s: State, r: Real) {
    await runDailyJob(r.ctx);
  }
  toString() {
    return 'run the daily job';
  }
}

const mailboxPick = fc.nat({ max: 1 });
const smallGb = fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 60 }));
const buy = fc.tuple(mailboxPick, smallGb).map(([m, gb]) => new BuyExtraSpace(m, gb));
const renew = mailboxPick.map((m) => new PlaceRenewal(m));
const waitingPick = fc.option(fc.nat({ max: 3 }), { freq: 3 });
const anyTopUp = fc
  .tuple(
    fc.oneof(fc.constant<TopupAmount>({ kind: 'shortfall' }), fc.integer({ min: 100, max: 20_000 }).map((cents): TopupAmount => ({ kind: 'fixed', cents }))),
    waitingPick,
    fc.boolean(),
  )
  .map(([amount, target, paid]) => new TopUp(amount, target, paid));
const paidShortfall = waitingPick.map((target) => new TopUp({ kind: 'shortfall' }, target, true));
const days = fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 400 }));
const daily = fc.constant(new DailyJob());

/** fast-check picks among these evenly: the money paths (buy, renew, top up) come up most. */
const commandArbs: fc.Arbitrary<Action>[] = [
  buy,
  buy,
  buy,
  renew,
  renew,
  anyTopUp,
  paidShortfall,
  paidShortfall,
  fc.nat({ max: 3 }).map((n) => new Cancel(n)),
  fc.tuple(mailboxPick, fc.constantFrom<'autoRenew' | 'extraSpaceAutoRenew'>('autoRenew', 'extraSpaceAutoRenew'), fc.boolean()).map(([m, w, on]) => new Switch(m, w, on)),
  fc.oneof(fc.integer({ min: 1, max: 10_000 }).map((c) => new Adjust(c, 0)), fc.double({ min: 0, max: 1, noNaN: true }).map((share) => new Adjust(null, share))),
  days.map((d) => new MoveClock(d)),
  fc.integer({ min: 1, max: 10 }).map((d) => new MoveClock(d)),
  fc.integer({ min: 1, max: 23 }).map((h) => new MoveClockHours(h)),
  daily,
  daily,
  fc.tuple(fc.nat({ max: 5 }), fc.oneof(fc.double({ min: 0.01, max: 1, noNaN: true }), fc.constant(1), fc.constant(1.5))).map(([p, share]) => new Refund(p, share)),
  fc.tuple(fc.nat({ max: 5 }), fc.constantFrom<'opened' | 'won' | 'lost'>('opened', 'opened', 'won', 'lost')).map(([p, st]) => new Dispute(p, st)),
];

// ---- The state after every step ----

async function stateProblems(s: State, r: Real): Promise<string[]> {
  const { db } = r.ctx;
  const problems: string[] = [];
  const ledger = await verifyLedger(db);
  if (!ledger.ok) problems.push(`ledger does not verify: ${JSON.stringify(ledger.problems.slice(0, 3))}`);
  problems.push(...(await coverageProblems(s, r)));
  const balance = await readBalance(db, r.customerId);
  if (balance !== s.balance) problems.push(`balance ${balance}, model ${s.balance}`);
  const held = await readDisputedAndDebt(db, r.customerId);
  if (held.disputedCents !== s.disputed || held.debtCents !== s.debt) problems.push(`disputed/debt ${held.disputedCents}/${held.debtCents}, model ${s.disputed}/${s.debt}`);
  const refunded = await db.query<{ topup_id: string; net: number; vat: number }>(
    `SELECT topup_id, sum(amount_cents)::int8 AS net, sum(vat_cents)::int8 AS vat FROM refunds WHERE customer_id = $1 AND status = 'succeeded' GROUP BY topup_id`,
    [r.customerId],
  );
  for (const [n, p] of s.payments.entries()) {
    const row = refunded.find((x) => x.topup_id === r.topupIds[n]);
    if (Number(row?.net ?? 0) !== p.refundedNet || Number(row?.vat ?? 0) !== p.refundedVat) problems.push(`payment ${n} refunded ${row?.net ?? 0}+${row?.vat ?? 0} VAT, model ${p.refundedNet}+${p.refundedVat}`);
  }
  problems.push(...(await mailboxProblems(s, r)), ...(await orderProblems(s, r)));
  return problems;
}

async function mailboxProblems(s: State, r: Real): Promise<string[]> {
  const problems: string[] = [];
  for (const [i, m] of s.mailboxes.entries()) {
    const row = (await readMailbox(r.ctx.db, r.mailboxIds[i]!, r.customerId))!;
    const real = {
      status: row.status,
      expiresOn: row.expires_on,
      autoRenew: row.auto_renew,
      extraSpaceAutoRenew: row.extra_space_auto_renew,
      addon: row.addon_status === null ? null : addonView(row.addon_status, row.addon_quantity_gb!, row.addon_active_until!),
    };
    const expected = {
      status: m.status,
      expiresOn: m.expiresOn,
      autoRenew: m.autoRenew,
      extraSpaceAutoRenew: m.extraSpaceAutoRenew,
      addon: m.addon && addonView(m.addon.status, m.addon.gb, m.addon.until),
    };
    if (JSON.stringify(real) !== JSON.stringify(expected)) problems.push(`mailbox ${i}: ${JSON.stringify(real)}, model ${JSON.stringify(expected)}`);
  }
  return problems;
}

/** A deactivated add-on's GB and date no longer matter (the next purchase starts afresh). */
const addonView = (status: string, gb: number, until: Day) => (status === 'active' ? { status, gb, until } : { status });

async function orderProblems(s: State, r: Real): Promise<string[]> {
  const rows = await r.ctx.db.query<{ id: string; kind: string; status: string; quantity_gb: number; amount_cents: number; period_ends_on: string; active_until: string }>(
    'SELECT id, kind, status, quantity_gb, amount_cents, period_ends_on, active_until FROM orders WHERE customer_id = $1',
    [r.customerId],
  );
  const byId = new Map(rows.map((o) => [o.id, o]));
  const problems: string[] = [];
  if (rows.length !== s.orders.length) problems.push(`${rows.length} orders, model ${s.orders.length}`);
  for (const [n, o] of s.orders.entries()) {
    const row = byId.get(r.orderIds[n]!);
    // An order charges for exactly what it extends: extra space to its own period end, a renewal a year.
    const activeUntil = o.kind === 'renewal' ? model.yearAfter(o.periodEndsOn) : o.periodEndsOn;
    const real = row && { kind: row.kind, status: row.status, gb: row.quantity_gb, amount: row.amount_cents, periodEndsOn: row.period_ends_on, activeUntil: row.status === 'completed' ? row.active_until : '-' };
    const expected = { kind: o.kind, status: o.status, gb: o.gb, amount: o.amount, periodEndsOn: o.periodEndsOn, activeUntil: o.status === 'completed' ? activeUntil : '-' };
    if (JSON.stringify(real) !== JSON.stringify(expected)) problems.push(`order ${n}: ${JSON.stringify(real)}, model ${JSON.stringify(expected)}`);
  }
  return problems;
}

/**
 * R7.5, independently of the model's settlement: for each mailbox whose add-on the database says
 * is active, every day from today to its active_until has at least as many GB paid or granted as are
 * active. Paid or granted, as the database records it: completed extra-space orders (their GB from
 * the day they completed to the period end they were priced for; a free one only if R4 allowed it),
 * completed renewal orders and the daily job's renewals of extra space (the GB renewed, for a year
 * from the period end renewed).
 * Once the daily job has run today, extra space still active must also cover today itself: the job
 * renews or deactivates it on its date.
 */
async function coverageProblems(s: State, r: Real): Promise<string[]> {
  const t = model.today(s);
  const problems: string[] = [];
  for (const [i, id] of r.mailboxIds.entries()) {
    const row = (await readMailbox(r.ctx.db, id, r.customerId))!;
    if (row.addon_status !== 'active') continue;
    const addon = { gb: row.addon_quantity_gb!, until: row.addon_active_until! };
    const to = s.lastDailyRunOn === t && addon.until <= t ? model.dayAfter(t) : addon.until;
    const gap = model.firstUncoveredDay(addon, t, to, await entitlementsOf(r, id));
    if (gap) problems.push(`mailbox ${i}: ${addon.gb} GB active until ${addon.until}, but only ${gap.entitledGb} GB paid or granted on ${gap.day}`);
  }
  return problems;
}

async function entitlementsOf(r: Real, mailboxId: string): Promise<Entitlement[]> {
  const orders = await r.ctx.db.query<{ kind: string; quantity_gb: number; amount_cents: number; period_ends_on: string; created_at: Date; completed_at: Date }>(
    `SELECT kind, quantity_gb, amount_cents, period_ends_on, created_at, completed_at FROM orders
      WHERE mailbox_id = $1 AND status = 'completed' AND quantity_gb > 0`,
    [mailboxId],
  );
  // Manual renewals write a record too (with their order): counted once, through the order.
  const renewals = await r.ctx.db.query<{ period_ends_on: string; amount_cents: number }>(
    `SELECT period_ends_on, amount_cents FROM renewals
      WHERE mailbox_id = $1 AND service = 'extra_inbox_space' AND outcome = 'renewed' AND order_id IS NULL`,
    [mailboxId],
  );
  return [
    ...orders.filter(paidOrGrantedFree).map((o) =>
      o.kind === 'renewal'
        ? { gb: o.quantity_gb, from: o.period_ends_on, to: model.yearAfter(o.period_ends_on) }
        : { gb: o.quantity_gb, from: dateInRome(o.completed_at.getTime()).toString(), to: o.period_ends_on },
    ),
    ...renewals.map((x) => ({ gb: x.amount_cents / model.PRICES.gbYear, from: x.period_ends_on, to: model.yearAfter(x.period_ends_on) })),
  ];
}

/**
 * R4: extra space counts as paid when its order charged the full year, or as granted when it was
 * ordered within three months of the end it was priced on; a free order outside that grants nothing.
 */
function paidOrGrantedFree(o: { kind: string; quantity_gb: number; amount_cents: number; period_ends_on: string; created_at: Date }): boolean {
  if (o.kind === 'renewal' || o.amount_cents >= o.quantity_gb * model.PRICES.gbYear) return true;
  const orderedOn = dateInRome(o.created_at.getTime());
  return !(addMonths(orderedOn, 3).toString() < o.period_ends_on);
}

// ---- The runner ----

export interface ModelRunSettings {
  numRuns: number;
  /** Fixed in the suite; random (and printed) from the command. */
  seed?: number;
  /** Replay one counterexample exactly: fast-check's path and the commands' replayPath, with its seed. */
  path?: string;
  replayPath?: string;
  maxCommands?: number;
}

export interface ModelRunReport {
  ok: boolean;
  seed: number;
  runs: number;
  /** fast-check's report of the shrunk counterexample and the failed checks; null when all passed. */
  failure: string | null;
  /** The arguments of `casella bench model` that replay the shrunk counterexample. */
  replayArgs: string | null;
}

export const modelRunDefaults = { maxCommands: 25 };

export async function runMoneyModel(ctx: ServiceContext, settings: ModelRunSettings): Promise<ModelRunReport> {
  const cmds = fc.commands(commandArbs, {
    maxCommands: settings.maxCommands ?? modelRunDefaults.maxCommands,
    // fast-check's default size makes runs of about 5 actions; the paths that leaked need longer ones.
    size: 'max',
    replayPath: settings.replayPath,
  });
  const property = fc.asyncProperty(startArb, cmds, async (start, cmds) => {
    await fc.asyncModelRun(() => setup(ctx, start), cmds);
  });
  const details = await fc.check(property, { numRuns: settings.numRuns, seed: settings.seed, path: settings.path });
  if (!details.failed) return { ok: true, seed: details.seed, runs: details.numRuns, failure: null, replayArgs: null };
  const report = fc.defaultReportMessage(details) ?? 'failed';
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  const replayPath = /replayPath="([^"]*)"/.exec(report)?.[1];
  const replayArgs = `--runs 1 --seed ${details.seed} --path ${details.counterexamplePath}${replayPath ? ` --replay-path '${replayPath}'` : ''}`;
  return { ok: false, seed: details.seed, runs: details.numRuns, failure: `${report}\n\n${error}\n\nreplay: npx casella bench model ${replayArgs}`, replayArgs };
}
