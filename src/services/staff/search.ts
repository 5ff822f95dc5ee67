// R19: staff find a holder by whatever the caller tells them — a mailbox address or its beginning,
// any part of the name (accents and case ignored), codice fiscale, partita IVA, reference e-mail or
// invoice number — best matches first, at most 50. Every branch is served by an index
// (migration 040), so a search stays fast on a book of millions.
import type { Queryable } from '../../db/database.ts';
import { invalid } from '../errors.ts';

export const SEARCH_RESULTS_MAX = 50;
export const SEARCH_QUERY_LENGTH_MAX = 200;
/** Names are matched from three characters: shorter text matches too much to be useful (and no trigram). */
const NAME_QUERY_LENGTH_MIN = 3;
const MAILBOXES_SHOWN_MAX = 10;

export type SearchMatch = 'address' | 'name' | 'taxCode' | 'vatNumber' | 'referenceEmail' | 'invoice';

export interface SearchResult {
  customerId: string;
  name: string;
  taxCode: string | null;
  vatNumber: string | null;
  referenceEmail: string;
  mailboxes: string[];
  matched: SearchMatch;
}

/** LIKE's wildcards typed by the caller match themselves. */
const likeEscaped = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** 2026/42, 2026/000042 or 2026-42: the invoice's year and sequence. */
function invoiceKey(q: string): { year: number; sequence: number } | null {
  const m = /^(\d{4})\s*[/-]\s*0*(\d{1,6})$/.exec(q);
  return m ? { year: Number(m[1]), sequence: Number(m[2]) } : null;
}

export async function searchHolders(db: Queryable, rawQuery: string): Promise<SearchResult[]> {
  const q = rawQuery.trim();
  if (!q || q.length > SEARCH_QUERY_LENGTH_MAX) throw invalid({ q: `must be 1 to ${SEARCH_QUERY_LENGTH_MAX} characters` }, 'Type something to search for');
  const upper = q.toUpperCase().replace(/\s+/g, '');
  // A partita IVA may be typed with its country prefix or spaces: IT 01234567890.
  const vat = upper.replace(/^IT(?=\d{11}$)/, '');
  const invoice = invoiceKey(q);
  const nameQuery = q.length >= NAME_QUERY_LENGTH_MIN ? q : null;
  // Each branch gives (customer, rank, match); the best rank of each holder wins. Rank 0 is an exact
  // identifier, 1 an address's beginning, 2 a name (then by trigram similarity).
  const rows = await db.query<{
    customer_id: string;
    name: string;
    tax_code: string | null;
    vat_number: string | null;
    reference_email: string;
    matched: SearchMatch;
    mailboxes: string[] | null;
  }>(
    `WITH hits AS (
       SELECT customer_id, 0 AS rank, 1.0::real AS score, 'address' AS matched FROM mailboxes WHERE lower(address) = lower($1)
       UNION ALL
       SELECT customer_id, 1, 0.9, 'address' FROM (
         SELECT customer_id FROM mailboxes WHERE lower(address) LIKE $2 ESCAPE '\\' ORDER BY lower(address) LIMIT ${SEARCH_RESULTS_MAX}) a
       UNION ALL
       SELECT id, 0, 1.0, 'taxCode' FROM customers WHERE upper(tax_code) = $3
       UNION ALL
       SELECT customer_id, 0, 1.0, 'taxCode' FROM billing_profiles WHERE upper(profile->>'taxCode') = $3
       UNION ALL
       SELECT customer_id, 0, 1.0, 'vatNumber' FROM billing_profiles WHERE upper(profile->>'vatNumber') = ANY($4::text[])
       UNION ALL
       SELECT id, 0, 1.0, 'referenceEmail' FROM customers WHERE lower(reference_email) = lower($1)
       UNION ALL
       SELECT customer_id, 0, 1.0, 'invoice' FROM invoices WHERE year = $5 AND sequence = $6
       UNION ALL
       SELECT id, 2, similarity(casella_fold(name), casella_fold($7)), 'name' FROM (
         SELECT id, name FROM customers
          WHERE $7::text IS NOT NULL AND casella_fold(name) LIKE '%' || replace(replace(replace(casella_fold($7), '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%' ESCAPE '\\'
          ORDER BY similarity(casella_fold(name), casella_fold($7)) DESC LIMIT ${SEARCH_RESULTS_MAX}) n
       UNION ALL
       SELECT customer_id, 2, similarity(casella_fold(profile->>'companyName'), casella_fold($7)), 'name' FROM (
         SELECT customer_id, profile FROM billing_profiles
          WHERE $7::text IS NOT NULL AND casella_fold(profile->>'companyName') LIKE '%' || replace(replace(replace(casella_fold($7), '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%' ESCAPE '\\'
          LIMIT ${SEARCH_RESULTS_MAX}) b
     ),
     best AS (
       SELECT DISTINCT ON (customer_id) customer_id, rank, score, matched FROM hits
        ORDER BY customer_id, rank, score DESC
     ),
     top AS (SELECT * FROM best ORDER BY rank, score DESC, customer_id LIMIT ${SEARCH_RESULTS_MAX})
     SELECT c.id AS customer_id, c.name, coalesce(bp.profile->>'taxCode', c.tax_code) AS tax_code, bp.profile->>'vatNumber' AS vat_number,
            c.reference_email, t.matched,
            ARRAY(SELECT address FROM mailboxes m WHERE m.customer_id = c.id ORDER BY address LIMIT ${MAILBOXES_SHOWN_MAX}) AS mailboxes
       FROM top t JOIN customers c ON c.id = t.customer_id
       LEFT JOIN billing_profiles bp ON bp.customer_id = c.id
      ORDER BY t.rank, t.score DESC, c.name, c.id`,
    [q, `${likeEscaped(q.toLowerCase())}%`, upper, [vat, upper], invoice?.year ?? null, invoice?.sequence ?? null, nameQuery],
  );
  return rows.map((r) => ({
    customerId: r.customer_id,
    name: r.name,
    taxCode: r.tax_code,
    vatNumber: r.vat_number,
    referenceEmail: r.reference_email,
    mailboxes: r.mailboxes ?? [],
    matched: r.matched,
  }));
}
