// R11: usage warnings at the catalogue's thresholds (80 % and 95 % by default), one e-mail per
// threshold crossing, re-armed when usage falls back under the threshold or the space grows.
import type { Tx } from '../../db/database.ts';
import { baseBytes, BYTES_PER_GB } from '../../domain/catalogue.ts';
import { evaluateUsage } from '../../domain/usage.ts';
import { usageWarning } from '../../mail/templates.ts';
import { clock } from '../../clock.ts';
import type { ServiceContext } from '../context.ts';
import { MAILBOX_COLUMNS, type MailboxRow } from '../rows.ts';
import { mailboxView } from '../views.ts';
import { enqueueEmails } from '../../mail/outbox.ts';
import type { Locale } from '../../i18n/format.ts';

/** The thresholds already warned about for mailbox m, as [[percent, totalBytes], …]. */
const WARNED_SQL = `(SELECT coalesce(json_agg(json_build_array(u.threshold_percent, u.total_bytes)), '[]'::json)
                      FROM usage_warnings u WHERE u.mailbox_id = m.id) AS warned`;

type UsageRow = MailboxRow & { reference_email: string; locale: Locale; warned: [number, number][] };

/**
 * Evaluates one mailbox's usage inside the caller's transaction (the caller holds the mailbox's row
 * lock): re-arms thresholds, records the ones crossed, and queues one warning for the highest.
 * Returns whether a warning was queued. Only active mailboxes warn.
 */
export async function checkUsage(tx: Tx, ctx: ServiceContext, row: MailboxRow): Promise<boolean> {
  const [holder] = await tx.query<Pick<UsageRow, 'reference_email' | 'locale' | 'warned'>>(
    `SELECT c.reference_email, c.locale, ${WARNED_SQL} FROM mailboxes m JOIN customers c ON c.id = m.customer_id WHERE m.id = $1`,
    [row.id],
  );
  if (!holder) return false;
  return (await applyUsage(tx, ctx, [{ ...row, ...holder }], clock.now())) > 0;
}

/**
 * The pass over usage (R11), run by the daily job and every minute by the scheduler: it looks only
 * at mailboxes whose usage, space or state changed since it last ran (usage_changes, filled by
 * triggers whoever makes the change), so it costs what changed, not the size of the book. Keyset
 * batches, each one transaction; a mailbox locked by somebody else right now stays noted for the
 * next run.
 */
export async function checkChangedUsage(ctx: ServiceContext, batchSizeMax: number): Promise<number> {
  const c = ctx.catalogue;
  const minPercent = Math.min(...c.usageWarningThresholdsPercent);
  let after = '';
  let queued = 0;
  for (;;) {
    const now = clock.now();
    const { n, last } = await ctx.db.transaction(async (tx) => {
      const noted = await tx.query<{ mailbox_id: string }>(
        'SELECT mailbox_id FROM usage_changes WHERE mailbox_id > $1 ORDER BY mailbox_id LIMIT $2 FOR UPDATE SKIP LOCKED',
        [after, batchSizeMax],
      );
      if (!noted.length) return { n: 0, last: null };
      // Lock what can be looked at now; only mailboxes that can warn or re-arm (active and at or over
      // the lowest threshold, or with a warning on record) are read in full and evaluated.
      const locked = await tx.query<{ id: string; worth: boolean }>(
        `SELECT m.id, (m.status = 'active' AND m.used_bytes * 100 >= $2::int8 * (
                  (CASE m.type WHEN 'standard' THEN $3::int8 ELSE $4::int8 END)
                  + (CASE WHEN a.status = 'active' THEN a.quantity_gb ELSE 0 END)::int8 * $5::int8))
                OR EXISTS (SELECT 1 FROM usage_warnings u WHERE u.mailbox_id = m.id) AS worth
           FROM mailboxes m LEFT JOIN addons a ON a.mailbox_id = m.id
          WHERE m.id = ANY($1::text[]) FOR UPDATE OF m SKIP LOCKED`,
        [noted.map((r) => r.mailbox_id), minPercent, baseBytes(c, 'standard'), baseBytes(c, 'pro'), BYTES_PER_GB],
      );
      const worth = locked.filter((r) => r.worth).map((r) => r.id);
      const rows = worth.length
        ? await tx.query<UsageRow>(
            `SELECT ${MAILBOX_COLUMNS}, c.reference_email, c.locale, ${WARNED_SQL}
               FROM mailboxes m JOIN customers c ON c.id = m.customer_id LEFT JOIN addons a ON a.mailbox_id = m.id
              WHERE m.id = ANY($1::text[])`,
            [worth],
          )
        : [];
      await tx.query('DELETE FROM usage_changes WHERE mailbox_id = ANY($1::text[])', [locked.map((r) => r.id)]);
      return { n: await applyUsage(tx, ctx, rows, now), last: noted.at(-1)!.mailbox_id };
    });
    queued += n;
    if (last === null) return queued;
    after = last;
  }
}

/**
 * R11 for a set of mailboxes whose rows the caller has locked, in a few set-based statements:
 * re-armed thresholds are deleted, crossed ones recorded, and one warning queued per mailbox for the
 * highest threshold it crossed. Returns how many warnings were queued.
 */
async function applyUsage(tx: Tx, ctx: ServiceContext, rows: readonly UsageRow[], now: Date): Promise<number> {
  const c = ctx.catalogue;
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
  if (!mark.mailbox.length) return 0;
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
  return emails.length;
}
