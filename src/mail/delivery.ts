// R13: delivers the e-mails that services wrote to the outbox, by SMTP, with retries and back-off.
// Retry timing uses the machine's wall time, not business time: moving the test clock must neither
// flood nor starve the mail server.
import { startRoundLoop, type RoundLoop } from '../round-loop.ts';
import nodemailer from 'nodemailer';
import type { Database } from '../db/database.ts';
import { clock } from '../clock.ts';
import { OUTBOX_BODY_COLUMNS, renderedEmail, type StoredBodies } from './outbox.ts';
import type { EmailBrand } from './message.ts';
import { CLAIM_LEASE_MS, withLease } from '../db/lease.ts';

export interface DeliveryOptions {
  smtpUrl: string;
  mailFrom: string;
  batchSizeMax?: number;
  attemptsMax?: number;
  retryDelayMsBase?: number;
  retryDelayMsMax?: number;
  /** Connection, greeting and socket-inactivity timeout of each SMTP conversation. */
  smtpTimeoutMs?: number;
  /**
   * How long a claimed row stays invisible to other workers unless its worker extends the lease
   * (it does while it is alive): a killed process's e-mails are due again after this (R20).
   */
  leaseMs?: number;
  /** The provider's name, logo and legal footer in every e-mail (CASELLA_CONFIG `brand`, `seller`). */
  brand?: EmailBrand;
}

export interface OutgoingMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
}

/** What deliverDueEmails needs of a nodemailer transporter (tests may pass their own). */
export interface MailTransport {
  sendMail(message: OutgoingMessage): Promise<unknown>;
  close?(): void;
}

export interface DeliveryResult {
  sent: number;
  /** Rows that reached attemptsMax in this round and are now 'failed'. */
  failed: number;
  /** Rows that failed this round and will be tried again later. */
  retried: number;
}

export interface OutboxRow {
  id: string;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

// About 15 hours of retries (1, 2, 4 … 32 minutes, then hourly) before an operator has to look.
const defaults = {
  batchSizeMax: 50,
  attemptsMax: 20,
  retryDelayMsBase: 60_000,
  retryDelayMsMax: 3_600_000,
  smtpTimeoutMs: 30_000,
  leaseMs: CLAIM_LEASE_MS,
};
const lastErrorLengthMax = 500;

export function retryDelayMs(attempts: number, base: number, max: number): number {
  return Math.min(max, base * 2 ** Math.max(0, attempts - 1));
}

/** Message-ID derived from the outbox id, so a receiver can drop a copy sent twice (see below). */
export function messageIdOf(outboxId: string, mailFrom: string): string {
  const domain = /@([^\s>]+)/.exec(mailFrom)?.[1] ?? 'casella.invalid';
  return `<${outboxId}.outbox@${domain}>`;
}

export function createSmtpTransport(opts: DeliveryOptions): MailTransport {
  const timeoutMs = opts.smtpTimeoutMs ?? defaults.smtpTimeoutMs;
  // The URL's own settings (host, port, auth, secure) win over these. One pooled connection: a batch
  // reuses it instead of a handshake per e-mail.
  return nodemailer.createTransport({
    url: opts.smtpUrl,
    pool: true,
    maxConnections: 1,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
  });
}

const errorText = (err: unknown): string => {
  const text = err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err);
  return text.slice(0, lastErrorLengthMax);
};

/**
 * Sends the due e-mails once. Delivery is exactly-once as far as SMTP allows:
 * 1. a short transaction claims up to batchSizeMax due rows with FOR UPDATE SKIP LOCKED and moves
 *    their next_attempt_at to a lease's end, so no other worker (process) picks them until then;
 *    the lease is extended while this worker is alive (src/db/lease.ts), and runs out within
 *    CLAIM_LEASE_MS when it is killed, so another process takes the rows over (R20);
 * 2. each is sent outside any transaction (never hold a lock or a connection during SMTP);
 * 3. each is then marked sent, or its failure recorded.
 * At-least-once window: if the process dies (or the database is unreachable) after the server
 * accepted a message but before step 3, the row is sent again when the lease ends. Receivers can
 * drop that copy by its Message-ID, which is derived from the outbox id.
 * `transport` null: one is created from opts.smtpUrl for this call and closed at its end.
 */
export async function deliverDueEmails(
  db: Database,
  transport: MailTransport | null,
  opts: DeliveryOptions,
): Promise<DeliveryResult> {
  const batchSizeMax = Math.max(1, Math.min(1000, opts.batchSizeMax ?? defaults.batchSizeMax));
  const attemptsMax = Math.max(1, opts.attemptsMax ?? defaults.attemptsMax);
  const base = opts.retryDelayMsBase ?? defaults.retryDelayMsBase;
  const max = opts.retryDelayMsMax ?? defaults.retryDelayMsMax;
  const leaseMs = opts.leaseMs ?? defaults.leaseMs;
  const result: DeliveryResult = { sent: 0, failed: 0, retried: 0 };

  return withLease(
    leaseMs,
    (token, until, ids) =>
      db.query(`UPDATE outbox SET next_attempt_at = $3 WHERE id = ANY($1::text[]) AND status = 'pending' AND claim_token = $2`, [ids, token, until]),
    async (lease) => {
      const nowMs = clock.wallMs();
      // A row never tried is due at once whatever its next_attempt_at: services write it with business
      // time, which the test clock may have moved into the future. The lease changes next_attempt_at,
      // so a claimed row no longer matches `next_attempt_at = created_at`.
      const claimed = await db.transaction((tx) =>
        tx.query<StoredBodies & { id: string; seq: number; to_address: string; attempts: number }>(
          `UPDATE outbox SET next_attempt_at = $2, claim_token = $4
            WHERE status = 'pending' AND id IN (
              SELECT id FROM outbox
               WHERE status = 'pending'
                 AND (next_attempt_at <= $1 OR (attempts = 0 AND next_attempt_at = created_at))
               ORDER BY seq
               LIMIT $3
               FOR UPDATE SKIP LOCKED)
            RETURNING id, seq, to_address, ${OUTBOX_BODY_COLUMNS}, attempts`,
          [new Date(nowMs), lease.firstUntil, batchSizeMax, lease.token],
        ),
      );
      if (claimed.length === 0) return result;
      claimed.sort((a, b) => a.seq - b.seq); // RETURNING has no order
      lease.hold(claimed.map((r) => r.id));

      const own = transport === null;
      const smtp = transport ?? createSmtpTransport(opts);
      try {
        for (const row of claimed) {
          // The lease must surely still be ours when sending starts; otherwise the row goes back to
          // the queue at once (its lease could not be extended: the database is unreachable).
          if (!lease.holds()) {
            await db.query(`UPDATE outbox SET next_attempt_at = $2, claim_token = NULL WHERE id = $1 AND status = 'pending' AND claim_token = $3`, [
              row.id,
              new Date(clock.wallMs()),
              lease.token,
            ]);
            lease.release(row.id);
            continue;
          }
          try {
            const mail = renderedEmail(row, opts.brand);
            await smtp.sendMail({
              from: opts.mailFrom,
              to: row.to_address,
              subject: mail.subject,
              text: mail.text,
              html: mail.html,
              messageId: messageIdOf(row.id, opts.mailFrom),
            });
          } catch (err) {
            const attempts = row.attempts + 1;
            const next = new Date(clock.wallMs() + retryDelayMs(attempts, base, max));
            // Only while the claim is ours: otherwise another worker owns the row.
            const updated = await db.query<{ status: string }>(
              `UPDATE outbox
                  SET attempts = $2::integer, last_error = $3, next_attempt_at = $4, claim_token = NULL,
                      status = CASE WHEN $2::integer >= $5::integer THEN 'failed' ELSE 'pending' END
                WHERE id = $1 AND status = 'pending' AND claim_token = $6
                RETURNING status`,
              [row.id, attempts, errorText(err), next, attemptsMax, lease.token],
            );
            lease.release(row.id);
            if (updated[0]?.status === 'failed') result.failed++;
            else if (updated[0]) result.retried++;
            continue;
          }
          // Sent is sent: mark it even if the lease ran out meanwhile.
          await db.query(
            `UPDATE outbox SET status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = NULL, claim_token = NULL
              WHERE id = $1 AND status = 'pending'`,
            [row.id, new Date(clock.wallMs())],
          );
          lease.release(row.id);
          result.sent++;
        }
      } finally {
        if (own) smtp.close?.();
      }
      return result;
    },
  );
}

/** Operators: puts a 'failed' e-mail back in the queue, due now. False when it is not 'failed'. */
export async function retryFailedEmail(db: Database, id: string): Promise<boolean> {
  const rows = await db.query(
    `UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $2 WHERE id = $1 AND status = 'failed' RETURNING id`,
    [id, new Date(clock.wallMs())],
  );
  return rows.length === 1;
}

/** Newest first, for the /dev/mail page and operators. */
export async function listOutbox(db: Database, limit = 100, brand?: EmailBrand): Promise<OutboxRow[]> {
  const bounded = Math.max(1, Math.min(1000, Math.trunc(limit) || 1));
  const rows = await db.query<Omit<OutboxRow, 'text_body' | 'html_body'> & StoredBodies>(
    `SELECT id, to_address, ${OUTBOX_BODY_COLUMNS}, status, attempts, last_error, created_at, sent_at
       FROM outbox ORDER BY seq DESC LIMIT $1`,
    [bounded],
  );
  return rows.map((r) => {
    const mail = renderedEmail(r, brand);
    return {
      id: r.id,
      to_address: r.to_address,
      subject: r.subject,
      text_body: mail.text,
      html_body: mail.html,
      status: r.status,
      attempts: r.attempts,
      last_error: r.last_error,
      created_at: r.created_at,
      sent_at: r.sent_at,
    };
  });
}

export interface DeliveryLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** kick() after enqueueing e-mails. */
export type DeliveryLoop = RoundLoop;

/** Runs deliverDueEmails every intervalMs and on kick(), one round at a time. */
export function startDeliveryLoop(
  db: Database,
  opts: DeliveryOptions & { intervalMs?: number; logger?: DeliveryLogger },
): DeliveryLoop {
  const batchSizeMax = opts.batchSizeMax ?? defaults.batchSizeMax;
  return startRoundLoop(Math.max(10, opts.intervalMs ?? 1000), async () => {
    try {
      const r = await deliverDueEmails(db, null, opts);
      if (r.sent + r.failed + r.retried > 0) opts.logger?.info({ outbox: r }, 'e-mail delivery round');
      if (r.failed > 0) opts.logger?.warn({ failed: r.failed }, 'e-mails failed for good: see the outbox');
      // A full batch: more may be waiting, go on without waiting for the interval.
      return r.sent + r.failed + r.retried >= batchSizeMax;
    } catch (err) {
      opts.logger?.warn({ err: errorText(err) }, 'e-mail delivery round failed');
      return false;
    }
  });
}
