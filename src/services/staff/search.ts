// R19: staff find a holder by whatever the caller tells them — a mailbox address or its beginning,
// any part of the name (accents and case ignored), codice fiscale, partita IVA, reference e-mail or
// invoice number — best matches first, at most 50. The text is read first (planSearch) and only the
// lookups it can satisfy run, each on its own index and each bounded, in one statement; see
// DECISIONS.md "The back office" for the choices and PERFORMANCE.md for what they cost on a million
// holders.
import type { Database, Tx } from '../../db/database.ts';
import { SqlParams } from '../../db/sql-params.ts';
import { planSearch, type NameSearch } from '../../domain/staff-search.ts';
import { invalid } from '../errors.ts';

export const SEARCH_RESULTS_MAX = 50;
export const SEARCH_QUERY_LENGTH_MAX = 200;
/**
 * How many rows holding a name's pieces are read: a name found in more (a common surname, a given
 * name, three letters) is ranked among the first this many, not among all. Ranking the benchmark's
 * 51,000 "maria" would cost 250 times more and show the same kind of 50; staff narrow it by typing
 * more. It also bounds the rows read for words the index can only partly check ("F.lli").
 */
export const NAME_CANDIDATES_MAX = 200;
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

/**
 * The rows of `table` whose folded `column` holds every word, ranked by similarity to the text. The
 * patterns are folded by the database (casella_fold), as the column is. Each search is planned for
 * its values (SEARCH_SETTINGS), so the fold is done once while planning and the planner, knowing the
 * pattern, picks by how many names hold it: the trigram index for a rare one, the table read in order
 * for one in every few dozen names ("maria": 200 found in the first 3,500 rows, fewer pages than 200
 * rows fetched through the index's bitmap of 51,000). Either way at most NAME_CANDIDATES_MAX rows are
 * taken. What is compared on each row (the text, the checked words) is folded once, in an init plan.
 * Words with punctuation or too short for the index are checked on those rows with strpos, which no
 * index serves.
 */
function nameLookup(p: SqlParams, table: string, id: string, column: string, name: NameSearch, folded: string, planner: 'chooses' | 'uses the index'): string {
  // `(SELECT …)` hides the pattern from the planner, which then takes it for a rare one: the index.
  const fold = (param: string) => (planner === 'chooses' ? `casella_fold(${param})` : `(SELECT casella_fold(${param}))`);
  const indexed = name.indexedPatterns.map((pattern) => `${column} LIKE ${fold(p.add(pattern))}`);
  const checked = name.checkedWords.length
    ? `WHERE NOT EXISTS (SELECT 1 FROM unnest(ARRAY(SELECT casella_fold(w) FROM unnest(${p.add(name.checkedWords)}::text[]) AS w)) AS word
                         WHERE strpos(${column}, word) = 0)`
    : '';
  return `SELECT ${id} AS customer_id, similarity(${column}, ${folded}) AS score FROM (
            SELECT ${id}, ${column} FROM ${table} WHERE ${indexed.join(' AND ')} LIMIT ${NAME_CANDIDATES_MAX}) AS candidates
          ${checked}
          ORDER BY score DESC, ${id} LIMIT ${SEARCH_RESULTS_MAX}`;
}

/** Each lookup the text can satisfy, giving (customer, rank, score, match): rank 0 an exact identifier, 1 an address's beginning, 2 a name. */
function lookups(p: SqlParams, text: string): string[] {
  const plan = planSearch(text);
  const found: string[] = [];
  const hit = (rank: number, matched: SearchMatch, sql: string, customer = 'customer_id', score = '1') =>
    found.push(`SELECT ${customer} AS customer_id, ${rank} AS rank, (${score})::real AS score, '${matched}'::text AS matched FROM (${sql}) AS ${matched}_${found.length}`);
  if (plan.email) {
    const email = p.add(plan.email);
    hit(0, 'address', `SELECT customer_id FROM mailboxes WHERE lower(address) = ${email}`);
    hit(0, 'referenceEmail', `SELECT id FROM customers WHERE lower(reference_email) = ${email}`, 'id');
  }
  if (plan.addressPrefix) {
    // The beginning as a range of the text_pattern_ops index, read in that index's own order (USING
    // ~<~; a plain ORDER BY is the collation's, which this index cannot give, and 80,000 "personale…"
    // were sorted for 50): the first 50 addresses and nothing more, however many begin so.
    const from = p.add(plan.addressPrefix.from);
    const below = p.add(plan.addressPrefix.below);
    hit(1, 'address', `SELECT customer_id FROM mailboxes WHERE lower(address) ~>=~ ${from} AND lower(address) ~<~ ${below} ORDER BY lower(address) USING ~<~ LIMIT ${SEARCH_RESULTS_MAX}`, 'customer_id', '0.9');
  }
  if (plan.taxCode) {
    const taxCode = p.add(plan.taxCode);
    hit(0, 'taxCode', `SELECT id FROM customers WHERE upper(tax_code) = ${taxCode}`, 'id');
    hit(0, 'taxCode', `SELECT customer_id FROM billing_profiles WHERE upper(profile->>'taxCode') = ${taxCode}`);
  }
  if (plan.vatNumbers.length) hit(0, 'vatNumber', `SELECT customer_id FROM billing_profiles WHERE upper(profile->>'vatNumber') = ANY(${p.add(plan.vatNumbers)}::text[])`);
  if (plan.invoice) hit(0, 'invoice', `SELECT customer_id FROM invoices WHERE year = ${p.add(plan.invoice.year)} AND sequence = ${p.add(plan.invoice.sequence)}`);
  if (plan.name) {
    const folded = `(SELECT casella_fold(${p.add(plan.text)}))`;
    hit(2, 'name', nameLookup(p, 'customers', 'id', 'name_folded', plan.name, folded, 'chooses'), 'customer_id', 'score');
    // Companies are one row of the billing data in six or so, and those rows are wide (the whole
    // profile): reading the table in order never pays there, so that lookup always takes the index.
    hit(2, 'name', nameLookup(p, 'billing_profiles', 'customer_id', 'company_name_folded', plan.name, folded, 'uses the index'), 'customer_id', 'score');
  }
  return found;
}

/**
 * Settings of the search's own transaction. A common name is read from the table in order (see
 * nameLookup), and PostgreSQL starts such a read where another one on the same table left off
 * (synchronize_seqscans), so the same search would rank a different 200 each time: it starts at the
 * table's beginning instead, and the same text shows the same holders. Each run is planned for its
 * values, which is what lets the planner choose by how common a name is.
 */
const SEARCH_SETTINGS = 'SET LOCAL synchronize_seqscans = off; SET LOCAL plan_cache_mode = force_custom_plan';

export async function searchHolders(db: Database, rawQuery: string): Promise<SearchResult[]> {
  const text = rawQuery.trim();
  if (!text || text.length > SEARCH_QUERY_LENGTH_MAX) throw invalid({ q: `must be 1 to ${SEARCH_QUERY_LENGTH_MAX} characters` }, 'Type something to search for');
  const p = new SqlParams();
  const found = lookups(p, text);
  if (!found.length) return [];
  const rows = await db.transaction(async (tx) => {
    await tx.exec(SEARCH_SETTINGS);
    return searchRows(tx, found, p);
  });
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

/** The lookups' hits, one row per holder, best first, with what the result shows. */
function searchRows(tx: Tx, found: string[], p: SqlParams) {
  // The best rank of each holder wins (an 11-digit code is a codice fiscale and a partita IVA at once:
  // the match's name settles it); ties between holders go by name, then id, on both engines.
  return tx.query<{
    customer_id: string;
    name: string;
    tax_code: string | null;
    vat_number: string | null;
    reference_email: string;
    matched: SearchMatch;
    mailboxes: string[] | null;
  }>(
    `WITH hits AS (${found.join('\n UNION ALL ')}),
     best AS (
       SELECT DISTINCT ON (customer_id) customer_id, rank, score, matched FROM hits
        ORDER BY customer_id, rank, score DESC, matched
     ),
     top AS (SELECT * FROM best ORDER BY rank, score DESC, customer_id LIMIT ${SEARCH_RESULTS_MAX})
     SELECT c.id AS customer_id, c.name, coalesce(bp.profile->>'taxCode', c.tax_code) AS tax_code, bp.profile->>'vatNumber' AS vat_number,
            c.reference_email, t.matched,
            ARRAY(SELECT address FROM mailboxes m WHERE m.customer_id = c.id ORDER BY address LIMIT ${MAILBOXES_SHOWN_MAX}) AS mailboxes
       FROM top t JOIN customers c ON c.id = t.customer_id
       LEFT JOIN billing_profiles bp ON bp.customer_id = c.id
      ORDER BY t.rank, t.score DESC, c.name, c.id`,
    p.values,
  );
}
