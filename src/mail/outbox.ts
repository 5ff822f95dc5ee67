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

export async function enqueueEmail(tx: Tx, email: OutgoingEmail, at: Date): Promise<string> {
  const rendered = renderEmail(email.content, email.locale);
  const id = newId('eml');
  await tx.query(
    `INSERT INTO outbox (id, customer_id, kind, to_address, subject, text_body, html_body, next_attempt_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
    [id, email.customerId, email.kind, email.to, rendered.subject, rendered.text, rendered.html, at],
  );
  return id;
}
