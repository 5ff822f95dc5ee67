// R19: a holder's whole story for staff, read in bounded pages: statement, orders, payments,
// invoices (and credit notes), e-mails with their delivery, sessions and two-step status, audit trail.
import type { Queryable } from '../../db/database.ts';
import type { ServiceContext } from '../context.ts';
import { TRANSACTION_COLUMNS } from '../billing/credit.ts';
import { readBalance, readCustomer, readMailboxes, type TopupRow } from '../rows.ts';
import { notFound } from '../errors.ts';
import type { TransactionRow } from '../views.ts';
import { twoStepStatus } from '../access/two-step.ts';

export const RECORD_PAGE_MAX = 200;

/** 404 for an id that names no holder, before anything else is read. */
export async function requireCustomer(db: Queryable, customerId: string) {
  const c = await readCustomer(db, customerId);
  if (!c) throw notFound('customer');
  return c;
}

/** The statement newest first, a page at a time: `before` is the cursor the previous page gave. */
export async function statementPage(db: Queryable, customerId: string, before: number | null, limit: number) {
  await requireCustomer(db, customerId);
  const rows = await db.query<TransactionRow & { seq: number }>(
    `SELECT ${TRANSACTION_COLUMNS}, seq FROM ledger_transactions WHERE customer_id = $1 AND ($2::bigint IS NULL OR seq < $2)
      ORDER BY seq DESC LIMIT $3`,
    [customerId, before, Math.min(limit, RECORD_PAGE_MAX) + 1],
  );
  const page = rows.slice(0, Math.min(limit, RECORD_PAGE_MAX));
  return { transactions: page, nextBefore: rows.length > page.length ? page[page.length - 1]!.seq : null };
}

export async function topupsOf(db: Queryable, customerId: string, limit = RECORD_PAGE_MAX): Promise<TopupRow[]> {
  await requireCustomer(db, customerId);
  return db.query<TopupRow>(
    `SELECT t.*, i.id AS invoice_id FROM topups t LEFT JOIN invoices i ON i.topup_id = t.id
      WHERE t.customer_id = $1 ORDER BY t.created_at DESC, t.id DESC LIMIT $2`,
    [customerId, Math.min(limit, RECORD_PAGE_MAX)],
  );
}

export interface EmailSent {
  id: string;
  at: string;
  to: string;
  subject: string;
  status: 'queued' | 'sent' | 'failed';
  attempts: number;
  lastError: string | null;
  sentAt: string | null;
}

/** The e-mails written for this holder, newest first, with where their delivery stands. */
export async function emailsOf(db: Queryable, customerId: string, limit = RECORD_PAGE_MAX): Promise<EmailSent[]> {
  await requireCustomer(db, customerId);
  const rows = await db.query<{ id: string; created_at: Date; to_address: string; subject: string; status: 'pending' | 'sent' | 'failed'; attempts: number; last_error: string | null; sent_at: Date | null }>(
    `SELECT id, created_at, to_address, subject, status, attempts, last_error, sent_at FROM outbox
      WHERE customer_id = $1 ORDER BY seq DESC LIMIT $2`,
    [customerId, Math.min(limit, RECORD_PAGE_MAX)],
  );
  return rows.map((r) => ({
    id: r.id,
    at: r.created_at.toISOString(),
    to: r.to_address,
    subject: r.subject,
    status: r.status === 'pending' ? 'queued' : r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    sentAt: r.sent_at?.toISOString() ?? null,
  }));
}

export interface AccessFacts {
  twoStep: { enabled: boolean; enabledAt: string | null; recoveryCodesLeft: number };
  sessions: { createdAt: string; lastSeenAt: string; mailboxId: string | null }[];
}

/** Two-step status and the holder's open sessions (no tokens: only when and through which mailbox). */
export async function accessOf(db: Queryable, customerId: string): Promise<AccessFacts> {
  await requireCustomer(db, customerId);
  const two = await twoStepStatus(db, customerId);
  const sessions = await db.query<{ created_at: Date; last_seen_at: Date; mailbox_id: string | null }>(
    'SELECT created_at, last_seen_at, mailbox_id FROM sessions WHERE customer_id = $1 ORDER BY last_seen_at DESC LIMIT 50',
    [customerId],
  );
  return {
    twoStep: { enabled: two.enabled, enabledAt: two.enabledAt?.toISOString() ?? null, recoveryCodesLeft: two.recoveryCodesLeft },
    sessions: sessions.map((s) => ({ createdAt: s.created_at.toISOString(), lastSeenAt: s.last_seen_at.toISOString(), mailboxId: s.mailbox_id })),
  };
}

export async function holderSummary(ctx: ServiceContext, customerId: string) {
  const customer = await requireCustomer(ctx.db, customerId);
  const [balanceCents, mailboxes] = await Promise.all([readBalance(ctx.db, customerId), readMailboxes(ctx.db, customerId)]);
  return { customer, balanceCents, mailboxes };
}
