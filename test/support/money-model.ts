// A small reference model of the money rules (SPEC R4, R5, R7, R8, R9; the order and renewal
// semantics of issue 12 item 1), for the model-based test. Plain data and pure functions: each
// action takes a state and returns the next one and what the holder is told. It knows nothing of the
// database; test/support/money-model-run.ts drives the real services beside it and compares.
import { addDays, addMonths, addYears, date, dateInRome } from '../../src/domain/calendar.ts';

/** A calendar date 'YYYY-MM-DD' (R2); ISO strings compare like the dates they name. */
export type Day = string;

/** R3 catalogue defaults, written out: the model must not follow the code's configuration by accident. */
export const PRICES = {
  mailbox: { standard: 500, pro: 2500 } as const,
  gbYear: 300,
  maxGb: 50,
  graceDays: 90,
  renewalLeadDays: 90,
  orderWaitMs: 24 * 3_600_000,
  topupMin: 100,
  /** DECISIONS (issue 12 item 2): the daily job catches up at most this many years of missed renewals. */
  catchUpYearsMax: 2,
};

export type MailboxType = keyof typeof PRICES.mailbox;

export interface Addon {
  gb: number;
  status: 'active' | 'deactivated';
  /** A: the day its paid (or free) period ends. */
  until: Day;
}

export interface Mailbox {
  type: MailboxType;
  status: 'active' | 'expired' | 'terminated';
  /** E. */
  expiresOn: Day;
  autoRenew: boolean;
  extraSpaceAutoRenew: boolean;
  addon: Addon | null;
  /**
   * The rank of the mailbox's id among the holder's: the daily job takes add-ons ending the same day
   * in id order (the rules leave such ties open; the model follows the code's choice).
   */
  idRank: number;
}

export interface Order {
  kind: 'extra_inbox_space' | 'renewal';
  mailbox: number;
  gb: number;
  amount: number;
  periodEndsOn: Day;
  createdMs: number;
  expiresMs: number;
  status: 'awaiting_topup' | 'completed' | 'cancelled' | 'expired';
}

export interface State {
  nowMs: number;
  balance: number;
  /** In address order: the order the daily job takes a holder's mailboxes in when their dates tie. */
  mailboxes: Mailbox[];
  /** Every order placed, oldest first; the index is the order's name in the runner. */
  orders: Order[];
  /** The Rome day of the last daily run: once it ran today, overdue extra space must be settled. */
  lastDailyRunOn: Day | null;
  /** R17: every paid top-up, oldest first; the index is the payment's name in the runner. */
  payments: Payment[];
  /** R17: credit frozen by open charge-backs, and what lost ones left owed. */
  disputed: number;
  debt: number;
}

export interface Payment {
  net: number;
  vat: number;
  refundedNet: number;
  refundedVat: number;
  dispute: null | 'opened' | 'won' | 'lost';
  frozen: number;
}

/** R1 at 22 %: VAT half-up to the cent, written out apart from the code's. */
export const vatOf = (net: number): number => Math.floor((2 * net * 22 + 100) / 200);

/** What the holder is told: done, or refused with one of these API.md codes. */
export type Outcome = { ok: true } | { ok: false; codes: string[] };

export interface Step {
  state: State;
  outcome: Outcome;
}

const done = (state: State): Step => ({ state, outcome: { ok: true } });
const refused = (state: State, ...codes: string[]): Step => ({ state, outcome: { ok: false, codes } });
const copy = (s: State): State => structuredClone(s);

export const today = (s: State): Day => dateInRome(s.nowMs).toString();
const plusYear = (d: Day): Day => addYears(date(d), 1).toString();
const plusMonths = (d: Day, n: number): Day => addMonths(date(d), n).toString();
const plusDays = (d: Day, n: number): Day => addDays(date(d), n).toString();

export const activeGb = (m: Mailbox): number => (m.addon?.status === 'active' ? m.addon.gb : 0);

/** The extra-space period end P: the add-on's A while it is active, otherwise E. */
export const periodEnd = (m: Mailbox): Day => (m.addon?.status === 'active' ? m.addon.until : m.expiresOn);

/** An order still waiting at this instant (past 24 h it is dead even before the job marks it expired). */
export const isWaiting = (s: State, o: Order): boolean => o.status === 'awaiting_topup' && o.expiresMs > s.nowMs;

// ---- R8, R9: the manual renewal window ----

/** R9 from E - 90 days (active); R8 during grace, until E + 90 inclusive; never once terminated. */
export function renewalWindowOpen(m: Mailbox, day: Day): boolean {
  if (m.status === 'terminated') return false;
  if (day > plusDays(m.expiresOn, PRICES.graceDays)) return false;
  if (m.status === 'active' && day < plusDays(m.expiresOn, -PRICES.renewalLeadDays)) return false;
  return true;
}

/**
 * R9: the GB a manual renewal renews with the mailbox: only an add-on that ends at E, and only while
 * the holder has not switched its renewal off (R7.2).
 */
export function renewableGb(m: Mailbox): number {
  return m.extraSpaceAutoRenew && m.status === 'active' && m.addon?.status === 'active' && m.addon.until === m.expiresOn ? m.addon.gb : 0;
}

// ---- R5: settlement ----

/** R5: completes a new order now if the balance covers it (amount 0 always does), else it waits. */
function settleNew(s: State, o: Order): State {
  s.orders.push(o);
  if (o.amount <= s.balance && !complete(s, o)) throw new Error(`model: a new ${o.kind} order did not fit its own mailbox`);
  return s;
}

/** R5, issue 12: completes an order that still fits (charging exactly what it extends), else cancels it. */
function complete(s: State, o: Order): boolean {
  const fits = o.kind === 'extra_inbox_space' ? completeExtraSpace(s, o) : completeRenewal(s, o);
  if (fits) {
    s.balance -= o.amount;
    o.status = 'completed';
  } else o.status = 'cancelled';
  return fits;
}

/**
 * R4 at completion: the mailbox still active, before the order's own period end, the add-on (if
 * active) ending on that same day, and within 50 GB. The GB run to the order's period end, never to
 * a later E the mailbox may have reached meanwhile (R7.5).
 */
function completeExtraSpace(s: State, o: Order): boolean {
  const m = s.mailboxes[o.mailbox]!;
  const active = m.addon?.status === 'active';
  const fits =
    m.status === 'active' &&
    today(s) < o.periodEndsOn &&
    (!active || m.addon!.until === o.periodEndsOn) &&
    activeGb(m) + o.gb <= PRICES.maxGb;
  if (fits) m.addon = { gb: activeGb(m) + o.gb, status: 'active', until: o.periodEndsOn };
  return fits;
}

/**
 * R9 at completion: the same period (E unchanged), the window still open, and the GB it was priced
 * with still exactly what it would renew now; an order of 0 GB leaves the add-on alone (R8: an
 * expired mailbox's extra space is bought again, not renewed).
 */
function completeRenewal(s: State, o: Order): boolean {
  const m = s.mailboxes[o.mailbox]!;
  const fits = m.expiresOn === o.periodEndsOn && renewalWindowOpen(m, today(s)) && (o.gb === 0 || renewableGb(m) === o.gb);
  if (!fits) return false;
  m.status = 'active';
  m.expiresOn = plusYear(m.expiresOn);
  if (o.gb > 0) m.addon!.until = m.expiresOn;
  return true;
}

/** R5: waiting orders past 24 hours expire, nothing charged. */
function expireWaiting(s: State): void {
  for (const o of s.orders) if (o.status === 'awaiting_topup' && o.expiresMs <= s.nowMs) o.status = 'expired';
}

// ---- The holder's and the operator's actions ----

/** R4: buy GB of extra space for mailbox i on today's date. */
export function buyExtraSpace(s0: State, i: number, gb: number): Step {
  const m = s0.mailboxes[i]!;
  const t = today(s0);
  const P = periodEnd(m);
  const codes: string[] = [];
  if (m.status !== 'active' || !(t < P)) codes.push('mailbox_not_active');
  if (activeGb(m) + gb > PRICES.maxGb) codes.push('limit_exceeded');
  if (codes.length) return refused(s0, ...codes);
  // The three-month rule, on (T, P): T + 3 months strictly before P pays a full year; otherwise free.
  const amount = plusMonths(t, 3) < P ? gb * PRICES.gbYear : 0;
  const s = copy(s0);
  return done(settleNew(s, newOrder(s, { kind: 'extra_inbox_space', mailbox: i, gb, amount, periodEndsOn: P })));
}

/** R9: renew mailbox i by hand, with the extra space that ends at E. */
export function placeRenewal(s0: State, i: number): Step {
  const m = s0.mailboxes[i]!;
  if (!renewalWindowOpen(m, today(s0))) return refused(s0, 'not_renewable');
  if (s0.orders.some((o) => o.kind === 'renewal' && o.mailbox === i && isWaiting(s0, o))) return refused(s0, 'not_renewable');
  const gb = renewableGb(m);
  const amount = PRICES.mailbox[m.type] + gb * PRICES.gbYear;
  const s = copy(s0);
  return done(settleNew(s, newOrder(s, { kind: 'renewal', mailbox: i, gb, amount, periodEndsOn: m.expiresOn })));
}

function newOrder(s: State, o: Pick<Order, 'kind' | 'mailbox' | 'gb' | 'amount' | 'periodEndsOn'>): Order {
  return { ...o, createdMs: s.nowMs, expiresMs: s.nowMs + PRICES.orderWaitMs, status: 'awaiting_topup' };
}

/**
 * R5, R6: a card top-up of `amount` (optionally made for order `forOrder`), paid or declined. Paid:
 * credit, then stale orders expire, then waiting orders settle (that one first, then oldest first),
 * stopping at the first the balance does not cover.
 */
export function topUp(s0: State, amount: number, forOrder: number | null, paid: boolean): Step {
  if (forOrder !== null && !isWaiting(s0, s0.orders[forOrder]!)) return refused(s0, 'order_not_pending');
  if (!paid) return done(s0);
  const s = copy(s0);
  s.payments.push({ net: amount, vat: vatOf(amount), refundedNet: 0, refundedVat: 0, dispute: null, frozen: 0 });
  // R17: the credit pays a debt left by a lost charge-back first.
  const debtPaid = Math.min(s.debt, amount);
  s.debt -= debtPaid;
  s.balance += amount - debtPaid;
  expireWaiting(s);
  const waiting = s.orders.filter((o) => o.status === 'awaiting_topup');
  const first = forOrder === null ? [] : waiting.filter((o) => o === s.orders[forOrder]);
  for (const o of [...first, ...waiting.filter((o) => !first.includes(o))]) {
    if (o.amount > s.balance) break;
    complete(s, o);
  }
  return done(s);
}

/**
 * R17: an operator refunds `net` of payment `n`: not while disputed, never more than it has left
 * nor than the balance; the refund that empties it takes the VAT left, others VAT at 22 %.
 */
export function refund(s0: State, n: number, net: number): Step {
  const p0 = s0.payments[n]!;
  const left = p0.net - p0.refundedNet;
  if (p0.dispute === 'opened' || p0.dispute === 'lost' || net > left || net > s0.balance || net <= 0) return refused(s0, 'refund_not_allowed');
  const s = copy(s0);
  const p = s.payments[n]!;
  const vatLeft = p.vat - p.refundedVat;
  p.refundedVat += net === left ? vatLeft : Math.min(vatLeft, vatOf(net));
  p.refundedNet += net;
  s.balance -= net;
  return done(s);
}

/** R17: the gateway reports a charge-back on payment `n` (each report counts once). */
export function dispute(s0: State, n: number, status: 'opened' | 'won' | 'lost'): Step {
  const s = copy(s0);
  const p = s.payments[n]!;
  if (p.dispute === null) {
    // Opening freezes what the payment has left, up to the balance; an outcome reported first opens it too.
    p.frozen = Math.min(p.net - p.refundedNet, s.balance);
    s.balance -= p.frozen;
    s.disputed += p.frozen;
    p.dispute = 'opened';
    if (status === 'opened') return done(s);
  }
  if (p.dispute !== 'opened' || status === 'opened') return done(s);
  s.disputed -= p.frozen;
  if (status === 'won') s.balance += p.frozen;
  else s.debt += p.net - p.refundedNet - p.frozen;
  p.dispute = status;
  return done(s);
}

/** The holder cancels an order: only while it waits (and not past its 24 hours). */
export function cancelOrder(s0: State, n: number): Step {
  if (!isWaiting(s0, s0.orders[n]!)) return refused(s0, 'order_not_pending');
  const s = copy(s0);
  s.orders[n]!.status = 'cancelled';
  return done(s);
}

/** R7: the holder's switches; they take effect at the next renewal. */
export function setSwitch(s0: State, i: number, which: 'autoRenew' | 'extraSpaceAutoRenew', on: boolean): Step {
  const s = copy(s0);
  s.mailboxes[i]![which] = on;
  return done(s);
}

/** R6: an operator's adjustment; never below zero. */
export function adjustCredit(s0: State, amount: number): Step {
  if (s0.balance + amount < 0) return refused(s0, 'validation_failed');
  const s = copy(s0);
  s.balance += amount;
  return done(s);
}

export function moveClock(s0: State, nowMs: number): Step {
  const s = copy(s0);
  s.nowMs = nowMs;
  return done(s);
}

// ---- The daily job ----

/**
 * R5, R7, R8 for today, in the job's order (R7.3): every due mailbox first, then extra space. Each
 * holder's services draw on one running balance.
 */
export function dailyJob(s0: State): Step {
  const s = copy(s0);
  const t = today(s);
  expireWaiting(s);
  renewDueMailboxes(s, t);
  renewDueAddons(s, t);
  for (const m of s.mailboxes) {
    // R8: terminated once the grace (E + 90 inclusive) is over.
    if (m.status === 'expired' && t > plusDays(m.expiresOn, PRICES.graceDays)) m.status = 'terminated';
  }
  s.lastDailyRunOn = t;
  return done(s);
}

/**
 * R7.1, R7.3: each active mailbox with E <= today, by E then address: renewed from credit (switch
 * on, balance covers it, not overdue past the catch-up bound) or expired, and then its extra space
 * is deactivated too (R7.2). A mailbox still due after a renewal is taken again in the next round.
 * Extra space of a renewed mailbox is left for renewDueAddons.
 */
function renewDueMailboxes(s: State, t: Day): void {
  for (;;) {
    const due = s.mailboxes
      .map((m, i) => ({ m, i }))
      .filter(({ m }) => m.status === 'active' && m.expiresOn <= t)
      .sort((a, b) => cmp(a.m.expiresOn, b.m.expiresOn) || a.i - b.i);
    if (!due.length) return;
    for (const { m } of due) {
      const price = PRICES.mailbox[m.type];
      // Overdue by more than the catch-up bound: expired, not charged for every year missed.
      const tooLate = m.expiresOn < addYears(date(t), -PRICES.catchUpYearsMax).toString();
      if (m.autoRenew && !tooLate && s.balance >= price) {
        s.balance -= price;
        m.expiresOn = plusYear(m.expiresOn);
      } else {
        m.status = 'expired';
        if (m.addon?.status === 'active') m.addon.status = 'deactivated';
      }
    }
  }
}

/**
 * R7.2, R7.3, R7.6: after the mailboxes, each active mailbox's extra space paid until today or
 * before (by that date, then address) is renewed for a year from credit (switch on, balance covers
 * GB x 300) or deactivated, whatever the mailbox's E. Rounds, so years missed are each settled in turn.
 */
function renewDueAddons(s: State, t: Day): void {
  for (;;) {
    const due = s.mailboxes
      .map((m, i) => ({ m, i }))
      .filter(({ m }) => m.status === 'active' && m.addon?.status === 'active' && m.addon.until <= t && m.addon.until < m.expiresOn)
      .sort((a, b) => cmp(a.m.addon!.until, b.m.addon!.until) || a.i - b.i);
    if (!due.length) return;
    for (const { m } of due) {
      const a = m.addon!;
      const price = a.gb * PRICES.gbYear;
      if (m.extraSpaceAutoRenew && s.balance >= price) {
        s.balance -= price;
        a.until = plusYear(a.until);
      } else a.status = 'deactivated';
    }
  }
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

// ---- Independent check: coverage of extra space by what was paid or granted ----

/** GB paid or granted free over [from, to): one completed order or one renewal record. */
export interface Entitlement {
  gb: number;
  from: Day;
  to: Day;
}

/**
 * R7.5: every day from `fromDay` up to (not including) the add-on's A must have at least as many
 * entitled GB as are active. Entitlements are piecewise constant, so checking `fromDay` and each
 * entitlement boundary inside the range checks every day. Returns the first uncovered day, if any.
 */
export function firstUncoveredDay(addon: { gb: number; until: Day }, fromDay: Day, toDay: Day, entitlements: Entitlement[]): { day: Day; entitledGb: number } | null {
  const bounds = entitlements.flatMap((e) => [e.from, e.to]).filter((d) => d > fromDay && d < toDay);
  for (const day of [fromDay, ...bounds].sort()) {
    if (day >= toDay) continue;
    const entitledGb = entitlements.filter((e) => e.from <= day && day < e.to).reduce((n, e) => n + e.gb, 0);
    if (entitledGb < addon.gb) return { day, entitledGb };
  }
  return null;
}

export const yearAfter = plusYear;
export const dayAfter = (d: Day): Day => plusDays(d, 1);
