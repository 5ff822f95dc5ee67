// R13: an e-mail is written to the outbox in the same transaction as the change that causes it.
import type { Tx } from '../db/database.ts';
import { newId } from '../ids.ts';
import type { Locale } from '../i18n/format.ts';
import { renderEmail, type EmailContent } from './message.ts';

export interface OutgoingEmail {
  customerId: string | null;
  kind: string;
  to: string;
  locale: Locale;
  content: EmailContent;
}

/** Many outbox rows in one statement (inside the caller's transaction), in the given order; their ids. */
export async function enqueueEmails(tx: Tx, emails: readonly OutgoingEmail[], at: Date): Promise<string[]> {
  if (!emails.length) return [];
  const cols: (string | null)[][] = [[], [], [], [], [], [], []];
  for (const e of emails) {
    const r = renderEmail(e.content, e.locale);
    cols[0]!.push(newId('eml'));
    cols[1]!.push(e.customerId);
    cols[2]!.push(e.kind);
    cols[3]!.push(e.to);
    cols[4]!.push(r.subject);
    cols[5]!.push(r.text);
    cols[6]!.push(r.html);
  }
  await tx.query(
    `INSERT INTO outbox (id, customer_id, kind, to_address, subject, text_body, html_body, next_attempt_at, created_at)
     SELECT id, c, k, t, s, tb, hb, $8, $8
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
            WITH ORDINALITY AS v(id, c, k, t, s, tb, hb, n)
      ORDER BY n`,
    [...cols, at],
  );
  return cols[0] as string[];
}

export async function enqueueEmail(tx: Tx, email: OutgoingEmail, at: Date): Promise<string> {
  const [id] = await enqueueEmails(tx, [email], at);
  return id!;
}
