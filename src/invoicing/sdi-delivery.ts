// R15: invoices go to SdI like e-mails go to the mail server (src/mail/delivery.ts): the invoice row
// written in the payment's transaction is the outbox entry; a worker claims due rows with a lease,
// sends each outside any transaction, then marks it sent or schedules a retry with back-off. SdI
// being down delays invoices; retries never stop (an invoice cannot be dropped), and back-off is
// capped at an hour. Retry timing uses wall time, not business time (the test clock must not flood SdI).
import { startRoundLoop, type RoundLoop } from '../round-loop.ts';
import type { Database } from '../db/database.ts';
import { clock } from '../clock.ts';
import { invoiceDocument, recordSdiOutcome, type InvoiceRow } from '../services/billing/invoices.ts';
import { fatturaPaXml } from './fatturapa.ts';
import type { SdiChannel } from './sdi-channel.ts';
import { CLAIM_LEASE_MS, withLease } from '../db/lease.ts';

export interface SdiDeliveryOptions {
  batchSizeMax?: number;
  retryDelayMsBase?: number;
  retryDelayMsMax?: number;
  leaseMs?: number;
}

export interface SdiRoundResult {
  sent: number;
  retried: number;
  answered: number;
}

const defaults = { batchSizeMax: 50, retryDelayMsBase: 60_000, retryDelayMsMax: 3_600_000, leaseMs: CLAIM_LEASE_MS };
const answersPerRoundMax = 500;
const lastErrorLengthMax = 500;

export const sdiRetryDelayMs = (attempts: number, base: number, max: number): number => Math.min(max, base * 2 ** Math.max(0, attempts - 1));

const errorText = (err: unknown): string =>
  (err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err)).slice(0, lastErrorLengthMax);

/**
 * Sends the invoices due, once each as far as a channel allows: a file handed over but not yet
 * marked sent when the process dies is handed over again when the lease ends, under the same file
 * name, which SdI (and a directory) treats as the same file.
 */
export async function sendDueInvoices(db: Database, channel: SdiChannel, opts: SdiDeliveryOptions = {}): Promise<{ sent: number; retried: number }> {
  const batchSizeMax = Math.max(1, Math.min(1000, opts.batchSizeMax ?? defaults.batchSizeMax));
  const base = opts.retryDelayMsBase ?? defaults.retryDelayMsBase;
  const max = opts.retryDelayMsMax ?? defaults.retryDelayMsMax;
  const leaseMs = opts.leaseMs ?? defaults.leaseMs;
  return withLease(
    leaseMs,
    (token, until, ids) =>
      db.query(`UPDATE invoices SET next_attempt_at = $3 WHERE id = ANY($1::text[]) AND sdi_status = 'issued' AND claim_token = $2`, [ids, token, until]),
    async (lease) => {
      const nowMs = clock.wallMs();
      // Never claimed (still next_attempt_at = created_at, as the payment wrote it): due at once,
      // whatever business time the test clock gave it. A claim moves next_attempt_at to the lease's
      // end, so a row being sent by another worker no longer matches; R20: a killed worker's claim
      // runs out within CLAIM_LEASE_MS (a live one extends it: src/db/lease.ts).
      const claimed = await db.transaction((tx) =>
        tx.query<InvoiceRow>(
          `UPDATE invoices SET next_attempt_at = $2, claim_token = $4
            WHERE sdi_status = 'issued' AND id IN (
              SELECT id FROM invoices
               WHERE sdi_status = 'issued' AND (next_attempt_at <= $1 OR (attempts = 0 AND next_attempt_at = created_at))
               ORDER BY year, sequence
               LIMIT $3
               FOR UPDATE SKIP LOCKED)
            RETURNING *`,
          [new Date(nowMs), lease.firstUntil, batchSizeMax, lease.token],
        ),
      );
      claimed.sort((a, b) => a.year - b.year || a.sequence - b.sequence);
      lease.hold(claimed.map((r) => r.id));
      const result = { sent: 0, retried: 0 };
      for (const row of claimed) {
        if (!lease.holds()) {
          await db.query(`UPDATE invoices SET next_attempt_at = $2, claim_token = NULL WHERE id = $1 AND sdi_status = 'issued' AND claim_token = $3`, [
            row.id,
            new Date(clock.wallMs()),
            lease.token,
          ]);
          lease.release(row.id);
          continue;
        }
        try {
          await channel.send({ fileName: row.file_name, xml: fatturaPaXml(invoiceDocument(row), row.transmission_seq) }, new Date(clock.wallMs()));
        } catch (err) {
          const attempts = row.attempts + 1;
          await db.query(
            `UPDATE invoices SET attempts = $2, last_error = $3, next_attempt_at = $4, claim_token = NULL
              WHERE id = $1 AND sdi_status = 'issued' AND file_name = $5 AND claim_token = $6`,
            [row.id, attempts, errorText(err), new Date(clock.wallMs() + sdiRetryDelayMs(attempts, base, max)), row.file_name, lease.token],
          );
          lease.release(row.id);
          result.retried++;
          continue;
        }
        const at = new Date(clock.wallMs());
        await db.query(
          `WITH sent AS (
             UPDATE invoices SET sdi_status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = NULL, claim_token = NULL
              WHERE id = $1 AND sdi_status = 'issued' AND file_name = $3
             RETURNING id, file_name)
           INSERT INTO invoice_events (invoice_id, at, file_name, status, message) SELECT id, $2, file_name, 'sent', NULL FROM sent`,
          [row.id, at, row.file_name],
        );
        lease.release(row.id);
        result.sent++;
      }
      return result;
    },
  );
}

/** Records the answers SdI has given since the last round. */
export async function collectSdiAnswers(db: Database, channel: SdiChannel): Promise<number> {
  return db.transaction(async (tx) => {
    const at = new Date(clock.wallMs());
    const answers = await channel.takeAnswers(tx, at, answersPerRoundMax);
    let recorded = 0;
    for (const a of answers) if (await recordSdiOutcome(tx, a.fileName, a.outcome, at)) recorded++;
    return recorded;
  });
}

export async function sdiRound(db: Database, channel: SdiChannel, opts: SdiDeliveryOptions = {}): Promise<SdiRoundResult> {
  const sent = await sendDueInvoices(db, channel, opts);
  const answered = await collectSdiAnswers(db, channel);
  return { ...sent, answered };
}

export type SdiLoop = RoundLoop;

export interface SdiLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Runs sdiRound every intervalMs and on kick(), one round at a time (as the e-mail delivery loop does). */
export function startSdiLoop(db: Database, channel: SdiChannel, opts: SdiDeliveryOptions & { intervalMs?: number; logger?: SdiLogger } = {}): SdiLoop {
  return startRoundLoop(Math.max(10, opts.intervalMs ?? 1000), async () => {
    try {
      const r = await sdiRound(db, channel, opts);
      if (r.sent + r.retried + r.answered > 0) opts.logger?.info({ sdi: r }, 'SdI round');
      if (r.retried > 0) opts.logger?.warn({ retried: r.retried }, 'invoices could not be handed to SdI: retrying later');
      return r.sent + r.retried >= (opts.batchSizeMax ?? defaults.batchSizeMax);
    } catch (err) {
      opts.logger?.warn({ err: errorText(err) }, 'SdI round failed');
      return false;
    }
  });
}
