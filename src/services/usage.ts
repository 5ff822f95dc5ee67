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
import { enqueueEmails } from '../mail/outbox.ts';
import type { Locale } from '../i18n/format.ts';

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
 * a recorded warning (which may need re-arming). Keyset batches, each one transaction with a few
 * set-based statements; mailboxes locked by somebody else right now are skipped (whoever changes
 * them checks usage themselves). The decision per mailbox is the same evaluateUsage as checkUsage's.
 */
export async function checkAllUsage(ctx: ServiceContext, batchSizeMax: number): Promise<number> {
  const c = ctx.catalogue;
  const minPercent = Math.min(...c.usageWarningThresholdsPercent);
  let after = '';
  let queued = 0;
  for (;;) {
    const now = clock.now();
    const { n, last } = await ctx.db.transaction(async (tx) => {
      const rows = await tx.query<UsageRow>(
        `SELECT ${MAILBOX_COLUMNS}, c.reference_email, c.locale,
                (SELECT coalesce(json_agg(json_build_array(u.threshold_percent, u.total_bytes)), '[]'::json)
                   FROM usage_warnings u WHERE u.mailbox_id = m.id) AS warned
           FROM mailboxes m LEFT JOIN addons a ON a.mailbox_id = m.id JOIN customers c ON c.id = m.customer_id
          WHERE m.id > $1 AND (
            (m.status = 'active' AND m.used_bytes * 100 >= $3::int8 * (
               (CASE m.type WHEN 'standard' THEN $4::int8 ELSE $5::int8 END)
               + (CASE WHEN a.status = 'active' THEN a.quantity_gb ELSE 0 END)::int8 * $6::int8))
            OR EXISTS (SELECT 1 FROM usage_warnings u WHERE u.mailbox_id = m.id))
          ORDER BY m.id LIMIT $2 FOR UPDATE OF m SKIP LOCKED`,
        [after, batchSizeMax, minPercent, baseBytes(c, 'standard'), baseBytes(c, 'pro'), BYTES_PER_GB],
      );
      const rearm = { mailbox: [] as string[], percent: [] as number[] };
      const mark = { mailbox: [] as string[], percent: [] as number[], total: [] as number[] };
      const warnings = new Map<string, { row: UsageRow; percent: number; totalBytes: number }>();
      for (const row of rows) {
        if (row.status !== 'active') continue; // only active mailboxes warn; their records wait
        const totalBytes = mailboxView(row, c).space.totalBytes;
        const prior = row.warned.map(([p, t]) => ({ thresholdPercent: Number(p), totalBytes: Number(t) }));
        const d = evaluateUsage(Number(row.used_bytes), totalBytes, c.usageWarningThresholdsPercent, prior);
        for (const p of d.rearm) rearm.mailbox.push(row.id), rearm.percent.push(p);
        for (const p of d.markWarned) mark.mailbox.push(row.id), mark.percent.push(p), mark.total.push(totalBytes);
        if (d.warnAtPercent !== null) warnings.set(row.id, { row, percent: d.warnAtPercent, totalBytes });
      }
      if (rearm.mailbox.length) {
        await tx.query(
          `DELETE FROM usage_warnings u USING unnest($1::text[], $2::int[]) AS v(m, p) WHERE u.mailbox_id = v.m AND u.threshold_percent = v.p`,
          [rearm.mailbox, rearm.percent],
        );
      }
      let n = 0;
      if (mark.mailbox.length) {
        const inserted = await tx.query<{ mailbox_id: string; threshold_percent: number }>(
          `INSERT INTO usage_warnings (mailbox_id, threshold_percent, total_bytes, warned_at)
           SELECT m, p, t, $4 FROM unnest($1::text[], $2::int[], $3::int8[]) AS v(m, p, t)
           ON CONFLICT DO NOTHING RETURNING mailbox_id, threshold_percent`,
          [mark.mailbox, mark.percent, mark.total, now],
        );
        // A crossing recorded first by somebody else (a concurrent run) was written about by them.
        const mine = new Set(inserted.map((r) => `${r.mailbox_id}:${r.threshold_percent}`));
        const emails = [...warnings.values()]
          .filter((w) => mine.has(`${w.row.id}:${w.percent}`))
          .map((w) => ({
            customerId: w.row.customer_id,
            kind: 'usage_warning',
            to: w.row.reference_email,
            locale: w.row.locale,
            content: usageWarning(w.row.locale, {
              address: w.row.address,
              thresholdPercent: w.percent,
              usedBytes: Number(w.row.used_bytes),
              totalBytes: w.totalBytes,
              buySpaceUrl: `${ctx.publicUrl}/mailboxes/${w.row.id}`,
            }),
          }));
        await enqueueEmails(tx, emails, now);
        n = emails.length;
      }
      return { n, last: rows.length ? rows.at(-1)!.id : null };
    });
    queued += n;
    if (last === null) return queued;
    after = last;
  }
}

type UsageRow = MailboxRow & { reference_email: string; locale: Locale; warned: [number, number][] };
