// R13: an e-mail is written to the outbox in the same transaction as the change that causes it.
// The row holds the e-mail's content (subject and blocks); text and HTML are rendered from it when
// the e-mail is delivered or shown, so the transaction that causes it writes a small row.
import type { Tx } from '../db/database.ts';
import { newId } from '../ids.ts';
import { SqlParams } from '../db/sql-params.ts';
import type { Locale } from '../i18n/format.ts';
import { renderEmail, PLAIN_BRAND, type EmailBrand, type EmailContent, type RenderedEmail } from './message.ts';

export interface OutgoingEmail {
  customerId: string | null;
  kind: string;
  to: string;
  locale: Locale;
  content: EmailContent;
}

/**
 * The INSERT of many outbox rows, in the given order, for a statement of the caller's (alone or as
 * a CTE of a larger one); the rows' ids.
 */
export function outboxInsert(p: SqlParams, emails: readonly OutgoingEmail[], at: Date): { sql: string; ids: string[] } {
  const ids = emails.map(() => newId('eml'));
  const when = p.add(at);
  // The blocks travel as one JSON array, not as a text[] of JSON texts: the driver escapes every
  // quote of every element of a text[], which was a tenth of the daily job's JavaScript time.
  const sql = `INSERT INTO outbox (id, customer_id, kind, to_address, subject, content, locale, next_attempt_at, created_at)
     SELECT id, c, k, t, s, b, l, ${when}, ${when}
       FROM ROWS FROM (unnest(${p.add(ids)}::text[]), unnest(${p.add(emails.map((e) => e.customerId))}::text[]),
                       unnest(${p.add(emails.map((e) => e.kind))}::text[]), unnest(${p.add(emails.map((e) => e.to))}::text[]),
                       unnest(${p.add(emails.map((e) => e.content.subject))}::text[]),
                       json_array_elements(${p.add(JSON.stringify(emails.map((e) => e.content.blocks)))}::json),
                       unnest(${p.add(emails.map((e) => e.locale))}::text[]))
            WITH ORDINALITY AS v(id, c, k, t, s, b, l, n)
      ORDER BY n`;
  return { sql, ids };
}

/** Many outbox rows in one statement (inside the caller's transaction), in the given order; their ids. */
export async function enqueueEmails(tx: Tx, emails: readonly OutgoingEmail[], at: Date): Promise<string[]> {
  if (!emails.length) return [];
  const p = new SqlParams();
  const ins = outboxInsert(p, emails, at);
  await tx.query(ins.sql, p.values);
  return ins.ids;
}

export async function enqueueEmail(tx: Tx, email: OutgoingEmail, at: Date): Promise<string> {
  const [id] = await enqueueEmails(tx, [email], at);
  return id!;
}

/** The outbox columns renderedEmail needs, for SELECT and RETURNING lists. */
export const OUTBOX_BODY_COLUMNS = 'subject, content, locale, text_body, html_body';

export interface StoredBodies {
  subject: string;
  /** The blocks, for rows written since migration 003; older rows have rendered bodies instead. */
  content: EmailContent['blocks'] | null;
  locale: Locale | null;
  text_body: string | null;
  html_body: string | null;
}

export function renderedEmail(row: StoredBodies, brand: EmailBrand = PLAIN_BRAND): RenderedEmail {
  if (row.content && row.locale) return renderEmail({ subject: row.subject, blocks: row.content }, row.locale, brand);
  return { subject: row.subject, text: row.text_body ?? '', html: row.html_body ?? '' };
}
