// R11: usage warnings at the catalogue's thresholds (80 % and 95 % by default), one e-mail per
// threshold crossing, re-armed when usage falls back under the threshold or the space grows.
import type { Tx } from '../db/database.ts';
import { baseBytes, BYTES_PER_GB } from '../domain/catalogue.ts';
import { evaluateUsage, type WarnedThreshold } from '../domain/usage.ts';
import { enqueueEmail } from '../mail/outbox.ts';
import { usageWarning } from '../mail/templates.ts';
import { clock } from '../clock.ts';
import type { ServiceContext } from './context.ts';
import { MAILBOX_COLUMNS, readCustomer, type MailboxRow } from './rows.ts';
import { mailboxView } from './views.ts';

/**
 * Evaluates one mailbox's usage inside the caller's transaction (the caller holds the mailbox's row
 * lock, or is the daily job that claimed it): re-arms thresholds, records the ones crossed, and
 * queues one warning for the highest. Returns whether a warning was queued. Only active mailboxes warn.
 */
export async function checkUsage(tx: Tx, ctx: ServiceContext, row: MailboxRow): Promise<boolean> {
  const now = clock.now();
  const totalBytes = mailboxView(row, ctx.catalogue).space.totalBytes;
  const warned = await tx.query<{ threshold_percent: number; total_bytes: number }>(
    'SELECT threshold_percent, total_bytes FROM usage_warnings WHERE mailbox_id = $1',
    [row.id],
  );
  const prior: WarnedThreshold[] = warned.map((w) => ({ thresholdPercent: w.threshold_percent, totalBytes: Number(w.total_bytes) }));
  const usedBytes = Number(row.used_bytes);
  const decision =
    row.status === 'active'
      ? evaluateUsage(usedBytes, totalBytes, ctx.catalogue.usageWarningThresholdsPercent, prior)
      : { warnAtPercent: null, markWarned: [], rearm: [] };
  if (decision.rearm.length) {
    await tx.query('DELETE FROM usage_warnings WHERE mailbox_id = $1 AND threshold_percent = ANY($2::int[])', [row.id, decision.rearm]);
  }
  if (!decision.markWarned.length || decision.warnAtPercent === null) return false;
  const inserted = await tx.query<{ threshold_percent: number }>(
    `INSERT INTO usage_warnings (mailbox_id, threshold_percent, total_bytes, warned_at)
     SELECT $1, p, $3, $4 FROM unnest($2::int[]) AS p ON CONFLICT DO NOTHING RETURNING threshold_percent`,
    [row.id, decision.markWarned, totalBytes, now],
  );
  // Somebody else (a concurrent run) recorded this crossing first: they wrote the e-mail.
  if (!inserted.some((r) => r.threshold_percent === decision.warnAtPercent)) return false;
  const customer = await readCustomer(tx, row.customer_id);
  if (!customer) return false;
  await enqueueEmail(
    tx,
    {
      customerId: customer.id,
      kind: 'usage_warning',
      to: customer.reference_email,
      locale: customer.locale,
      content: usageWarning(customer.locale, {
        address: row.address,
        thresholdPercent: decision.warnAtPercent,
        usedBytes,
        totalBytes,
        buySpaceUrl: `${ctx.publicUrl}/mailboxes/${row.id}`,
      }),
    },
    now,
  );
  return true;
}

/**
 * The daily job's pass over usage (R11): active mailboxes at or over the lowest threshold, or with
 * a recorded warning (which may need re-arming). Keyset batches, each one transaction; mailboxes
 * locked by somebody else right now are skipped (whoever changes them checks usage themselves).
 */
export async function checkAllUsage(ctx: ServiceContext, batchSizeMax: number): Promise<number> {
  const c = ctx.catalogue;
  const minPercent = Math.min(...c.usageWarningThresholdsPercent);
  let after = '';
  let queued = 0;
  for (;;) {
    const { n, last } = await ctx.db.transaction(async (tx) => {
      const rows = await tx.query<MailboxRow>(
        `SELECT ${MAILBOX_COLUMNS} FROM mailboxes m LEFT JOIN addons a ON a.mailbox_id = m.id
          WHERE m.id > $1 AND (
            (m.status = 'active' AND m.used_bytes * 100 >= $3::int8 * (
               (CASE m.type WHEN 'standard' THEN $4::int8 ELSE $5::int8 END)
               + (CASE WHEN a.status = 'active' THEN a.quantity_gb ELSE 0 END)::int8 * $6::int8))
            OR EXISTS (SELECT 1 FROM usage_warnings u WHERE u.mailbox_id = m.id))
          ORDER BY m.id LIMIT $2 FOR UPDATE OF m SKIP LOCKED`,
        [after, batchSizeMax, minPercent, baseBytes(c, 'standard'), baseBytes(c, 'pro'), BYTES_PER_GB],
      );
      let n = 0;
      for (const row of rows) if (await checkUsage(tx, ctx, row)) n++;
      return { n, last: rows.length ? rows.at(-1)!.id : null };
    });
    queued += n;
    if (last === null) return queued;
    after = last;
  }
}
