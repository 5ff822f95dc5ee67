// The book `casella bench search` searches: N holders with Italian names (accents, apostrophes,
// double given names, companies), codici fiscali, partite IVA, reference e-mails, 2N mailboxes
// (most people one or two, companies several) and an invoice for a fifth of the holders, made with
// INSERT … SELECT over generate_series in a handful of statements. As PostgreSQL's guide to populating
// a database advises, the tables' indexes and the foreign keys between them are dropped while the rows
// go in and made again after, from the definitions the migrations gave them: each index is built once
// over sorted data instead of updated row by row, and each key checked by one join.
import type { Database, Queryable } from '../src/db/database.ts';

/** Weighted by how common each is (a rough reading of ISTAT's lists): a weight is a repetition. */
const GIVEN_NAMES: [string, number][] = [
  ['Giuseppe', 10], ['Giovanni', 8], ['Antonio', 8], ['Mario', 7], ['Francesco', 7], ['Luigi', 6], ['Vincenzo', 5],
  ['Salvatore', 5], ['Marco', 5], ['Andrea', 5], ['Alessandro', 5], ['Luca', 5], ['Angelo', 4], ['Pietro', 4],
  ['Carlo', 4], ['Franco', 4], ['Domenico', 4], ['Paolo', 4], ['Michele', 4], ['Matteo', 4], ['Lorenzo', 4],
  ['Stefano', 4], ['Roberto', 4], ['Giorgio', 3], ['Sergio', 3], ['Luciano', 3], ['Davide', 3],
  ['Simone', 3], ['Federico', 3], ['Riccardo', 3], ['Massimo', 3], ['Fabio', 3], ['Daniele', 3], ['Nicola', 3],
  ['Nicolò', 2], ['Niccolò', 1], ['Gabriele', 2], ['Tommaso', 2], ['Emanuele', 2], ['Raffaele', 2], ['Gianluca', 2],
  ['Gian Marco', 1], ['Pier Luigi', 1], ['Mattia', 2], ['Noè', 1], ['Mosè', 1], ['Giosuè', 1], ['Elia', 1],
  ['Jacopo', 1], ['José', 1], ['André', 1],
  ['Maria', 12], ['Anna', 6], ['Giuseppina', 4], ['Rosa', 4], ['Giovanna', 4], ['Francesca', 5], ['Angela', 3],
  ['Teresa', 3], ['Lucia', 3], ['Carmela', 3], ['Caterina', 2], ['Elena', 3], ['Chiara', 4], ['Sara', 3],
  ['Giulia', 4], ['Martina', 3], ['Alessandra', 3], ['Laura', 4], ['Paola', 4], ['Federica', 3], ['Valentina', 3],
  ['Silvia', 3], ['Roberta', 3], ['Barbara', 3], ['Simona', 3], ['Elisa', 3], ['Cristina', 3], ['Monica', 2],
  ['Daniela', 3], ['Antonella', 3], ['Patrizia', 3], ['Rita', 2], ['Sofia', 3], ['Aurora', 2], ['Ginevra', 1],
  ['Beatrice', 2], ['Alice', 2], ['Emma', 2], ['Noemi', 2], ['Ilaria', 2], ['Maria Grazia', 2], ['Anna Maria', 2],
  ['Maria Teresa', 1], ['Rosaria', 2], ['Concetta', 2], ['Assunta', 1], ['Immacolata', 1], ['Zoe', 1],
  ['Chloé', 1], ['Renée', 1], ['Inès', 1], ['Agnès', 1], ['Désirée', 1],
];

/** The common surnames: four holders in ten bear one of these (Rossi about one in a hundred). */
const COMMON_FAMILY_NAMES: [string, number][] = [
  ['Rossi', 12], ['Russo', 10], ['Ferrari', 9], ['Esposito', 9], ['Bianchi', 8], ['Romano', 8], ['Colombo', 7],
  ['Ricci', 6], ['Marino', 6], ['Greco', 6], ['Bruno', 6], ['Gallo', 6], ['Conti', 5], ['De Luca', 5],
  ['Mancini', 5], ['Costa', 5], ['Giordano', 5], ['Rizzo', 5], ['Lombardi', 5], ['Moretti', 5], ['Barbieri', 4],
  ['Fontana', 4], ['Santoro', 4], ['Mariani', 4], ['Rinaldi', 4], ['Caruso', 4], ['Ferrara', 4], ['Galli', 4],
  ['Martini', 4], ['Leone', 4], ['Longo', 4], ['Gentile', 4], ['Martinelli', 4], ['Vitale', 4], ['Lombardo', 4],
  ['Serra', 4], ['Coppola', 4], ['De Santis', 3], ["D'Angelo", 3], ['Marchetti', 3], ['Parisi', 3], ['Villa', 3],
  ['Conte', 3], ['Ferraro', 3], ['Ferri', 3], ['Fabbri', 3], ['Bianco', 3], ['Marini', 3], ['Grasso', 3],
  ['Valentini', 3], ['Messina', 3], ['Sala', 3], ['De Angelis', 3], ['Gatti', 3], ['Pellegrini', 3], ['Palumbo', 3],
  ['Sanna', 3], ['Farina', 3], ['Rizzi', 3], ['Monti', 3], ['Cattaneo', 3], ['Morelli', 3], ['Amato', 3],
  ['Silvestri', 3], ['Mazza', 3], ['Testa', 3], ['Grassi', 3], ['Pellegrino', 3], ['Carbone', 3], ['Giuliani', 3],
  ['Benedetti', 3], ['Barone', 3], ['Rossetti', 2], ['Caputo', 2], ['Montanari', 2], ['Guerra', 2], ['Palmieri', 2],
  ['Bernardi', 2], ['Fiore', 2], ['De Rosa', 2], ['Ferretti', 2], ['Bellini', 2], ['Basile', 2], ['Riva', 2],
  ['Donati', 2], ['Piras', 2], ['Vitali', 2], ['Battaglia', 2], ['Sartori', 2], ['Neri', 2], ['Costantini', 2],
  ['Milani', 2], ['Pagano', 2], ['Ruggiero', 2], ['Sorrentino', 2], ["D'Amico", 2], ['Negri', 2], ['Di Stefano', 2],
  ['La Rosa', 2], ['Lo Iacono', 1], ["Dell'Acqua", 1], ["Dall'Olio", 1], ['Di Mauro', 2],
  ['Zappalà', 2], ['Patanè', 2], ['Aricò', 1], ['Currò', 1], ['Cutrì', 1], ['Mammì', 1], ['Andò', 1], ['Dessì', 2],
  ['Cantù', 1], ['Scalì', 1], ['Calì', 1], ['Gulì', 1], ['Müller', 1], ['Gruber', 1], ['Pichler', 1], ['Hofer', 1],
];
/** The long tail: the other six in ten bear one of about 2,000 rarer surnames made of a root and an ending. */
const ROOTS = ['Abb', 'Alb', 'Anz', 'Bald', 'Barb', 'Bell', 'Benn', 'Berg', 'Bert', 'Bon', 'Borr', 'Bracc', 'Brun', 'Cald', 'Camp', 'Capp', 'Carr', 'Cas', 'Cav', 'Cerv', 'Ciamp', 'Coll', 'Corr', 'Cris', 'Dal', 'Ferr', 'Fior', 'Franc', 'Gall', 'Gasp', 'Giacc', 'Giann', 'Grim', 'Guid', 'Lanz', 'Lor', 'Magg', 'Malt', 'Manz', 'Marz', 'Mazz', 'Mell', 'Mor', 'Nann', 'Orl', 'Pag', 'Pal', 'Pasc', 'Pell', 'Picc', 'Pier', 'Pomp', 'Ran', 'Ricc', 'Romagn', 'Sabb', 'Sald', 'Sant', 'Scal', 'Serr', 'Spad', 'Tamb', 'Terr', 'Tosc', 'Vald', 'Ven', 'Vigl', 'Zan', 'Zamp', 'Zucc'];
const ENDINGS = ['ini', 'etti', 'ello', 'elli', 'one', 'oni', 'ucci', 'acci', 'aro', 'ari', 'ato', 'ati', 'esi', 'ola', 'otti', 'ozzi', 'ino', 'ano', 'ieri', 'uzzi', 'ardi', 'asso', 'urro', 'illo', 'ò', 'à', 'ì', 'è'];
const COMMON_FAMILY_SHARE_PERCENT = 40;

const BUSINESS_KINDS = ['Ferramenta', 'Studio Legale', 'Studio Tecnico', 'Farmacia', 'Trattoria', 'Edilizia', 'Autofficina', 'Panificio', 'Caffè', 'Impianti Elettrici', 'Immobiliare', 'Società Agricola', 'Pasticceria', 'Onoranze Funebri', 'Agenzia Viaggi', 'Tipografia', 'Macelleria', 'Studio Commercialista', 'Officina Meccanica', 'Ottica', 'Termoidraulica', 'Logistica', 'Costruzioni', 'Distribuzione'];
const LEGAL_FORMS = ['S.r.l.', 'S.r.l.', 'S.r.l.', 'S.n.c.', 'S.a.s.', 'S.p.A.', 'S.r.l.s.', ''];
const BUSINESS_MAILBOXES = ['amministrazione', 'info', 'fatture', 'direzione', 'segreteria', 'ufficio.tecnico', 'legale', 'acquisti', 'personale', 'commerciale'];
const REFERENCE_DOMAINS = ['libero.example', 'gmail.example', 'alice.example', 'outlook.example', 'tiscali.example', 'yahoo.example'];
/** The provider's own PEC domains, where people's mailboxes live; companies have a domain each. */
export const PEC_DOMAIN = 'pec.example.it';
/** Holders i with i % BUSINESS_EVERY = 0 are companies (one in eight). */
const BUSINESS_EVERY = 8;
/** A fifth of the holders paid once: an invoice each, numbered in one year. */
const INVOICE_EVERY = 5;
export const INVOICE_YEAR = 2026;

/** Without accents, lower case, letters only: what goes into an address. */
export const slug = (s: string): string => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z]/g, '');
/** The codice fiscale's three letters of a name (consonants first, then vowels, then X). */
function fiscalLetters(name: string, given: boolean): string {
  const letters = slug(name).toUpperCase();
  const consonants = letters.replace(/[AEIOU]/g, '');
  const vowels = letters.replace(/[^AEIOU]/g, '');
  if (given && consonants.length >= 4) return consonants[0]! + consonants[2]! + consonants[3]!;
  return (consonants + vowels + 'XXX').slice(0, 3);
}
const expand = (weighted: [string, number][]): string[] => weighted.flatMap(([name, weight]) => Array<string>(weight).fill(name));

/** Every index on these tables that no constraint owns: dropped for the load, built again after. */
const BULK_TABLES = ['customers', 'mailboxes', 'billing_profiles', 'invoices', 'topups'];

export interface BookSize {
  holders: number;
  mailboxes: number;
  invoices: number;
}

/** Makes the book; `step` is told what is being done, for a progress line. */
export async function makeSearchBook(db: Database, holders: number, step: (what: string) => void): Promise<BookSize> {
  // One list of surnames: the common ones by weight, repeated so that they make COMMON_FAMILY_SHARE_PERCENT
  // of it, then the long tail once.
  const given = expand(GIVEN_NAMES);
  const givenSlugs = new Set(given.map(slug));
  const common = expand(COMMON_FAMILY_NAMES);
  // A made-up surname that is a given name (Franc + ò) is left out: "rossi.mario" (surname first) must
  // never be someone's "mario.rossi".
  const tail = ROOTS.flatMap((root) => ENDINGS.map((ending) => root + ending)).filter((name) => !givenSlugs.has(slug(name)));
  const repeat = Math.max(1, Math.round((COMMON_FAMILY_SHARE_PERCENT * tail.length) / ((100 - COMMON_FAMILY_SHARE_PERCENT) * common.length)));
  const family = [...Array.from({ length: repeat }, () => common).flat(), ...tail];
  for (const name of family) if (givenSlugs.has(slug(name))) throw new Error(`${name} is both a given name and a surname`);

  const indexes = await db.query<{ name: string; definition: string }>(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
      WHERE t.relname = ANY($1::text[]) AND t.relnamespace = 'public'::regnamespace
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
    [BULK_TABLES],
  );
  // Foreign keys between these tables too: checked row by row, each check locks the holder's row
  // (2N locks for the mailboxes alone); added back after the load, each is checked in one join.
  const foreignKeys = await db.query<{ table_name: string; name: string; definition: string }>(
    `SELECT c.conrelid::regclass::text AS table_name, c.conname AS name, pg_get_constraintdef(c.oid) AS definition
       FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
      WHERE c.contype = 'f' AND t.relname = ANY($1::text[]) AND t.relnamespace = 'public'::regnamespace
        AND c.confrelid IN (SELECT oid FROM pg_class WHERE relname = ANY($1::text[]) AND relnamespace = 'public'::regnamespace)`,
    [BULK_TABLES],
  );
  await db.transaction(async (tx) => {
    // The window that numbers namesakes' addresses sorts 2N rows: in memory, not in temporary files.
    await tx.exec(`SET LOCAL work_mem = '256MB'`);
    await tx.exec(`SET LOCAL maintenance_work_mem = '256MB'`);
    for (const key of foreignKeys) await tx.exec(`ALTER TABLE ${key.table_name} DROP CONSTRAINT ${key.name}`);
    for (const index of indexes) await tx.exec(`DROP INDEX ${index.name}`);
    await tx.exec(`CREATE TEMP TABLE bench_given (n int PRIMARY KEY, name text, slug text, code text) ON COMMIT DROP;
                   CREATE TEMP TABLE bench_family (n int PRIMARY KEY, name text, slug text, code text) ON COMMIT DROP`);
    const fill = (table: string, names: string[], isGiven: boolean) =>
      tx.query(`INSERT INTO ${table} SELECT n, name, slug, code FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS x(name, slug, code, n)`, [
        names,
        names.map(slug),
        names.map((name) => fiscalLetters(name, isGiven)),
      ]);
    await fill('bench_given', given, true);
    await fill('bench_family', family, false);

    step('holders');
    // Holder i: a person, or (one in eight) a company; a given name and a surname picked by a
    // multiplicative hash of i (a run makes the same book every time). The codice fiscale's date and
    // place are i written in mixed radix, so no two holders share one; a company's partita IVA is i.
    await tx.exec(`CREATE TEMP TABLE bench_holders (i int PRIMARY KEY, business boolean, given text, given_slug text, family text, family_slug text,
                                                    name text, tax_code text, company_slug text, company_number int) ON COMMIT DROP`);
    await tx.query(
      `INSERT INTO bench_holders (i, business, given, given_slug, family, family_slug, name, tax_code, company_slug)
       SELECT i, i % $2 = 0, g.name, g.slug, f.name, f.slug,
              CASE WHEN i % $2 <> 0 THEN g.name || ' ' || f.name
                   WHEN i % 5 = 1 THEN k.kind || ' ' || f.name || ' di ' || g.name || ' ' || f.name
                   WHEN i % 5 = 2 THEN rtrim(f.name || ' ' || k.kind || ' ' || k.form)
                   ELSE rtrim(k.kind || ' ' || f.name || ' ' || k.form) END,
              CASE WHEN i % $2 <> 0
                   THEN f.code || g.code || lpad((i % 100)::text, 2, '0') || substr('ABCDEHLMPRST', 1 + (i / 100) % 12, 1)
                        || lpad((1 + (i / 1200) % 28 + CASE WHEN i % 3 = 0 THEN 40 ELSE 0 END)::text, 2, '0')
                        || substr('ABCDEFGHILMZ', 1 + (i / 33600) % 12, 1) || lpad((100 + i / 403200)::text, 3, '0')
                        || substr('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 1 + i % 26, 1)
                   ELSE lpad(i::text, 10, '0') || (i % 10)::text END,
              CASE WHEN i % 5 = 2 THEN f.slug || k.slug ELSE k.slug || f.slug END
         FROM generate_series(1, $1::int) AS i
         JOIN bench_given g ON g.n = 1 + (i::bigint * 2654435761 % 1000003) % (SELECT count(*) FROM bench_given)
         JOIN bench_family f ON f.n = 1 + (i::bigint * 40503 % 1000033) % (SELECT count(*) FROM bench_family)
         CROSS JOIN LATERAL (SELECT ($3::text[])[1 + (i / $2) % cardinality($3::text[])] AS kind,
                                    ($4::text[])[1 + (i::bigint * 7 % 1000037) % cardinality($4::text[])] AS form,
                                    ($5::text[])[1 + (i / $2) % cardinality($5::text[])] AS slug) k`,
      [holders, BUSINESS_EVERY, BUSINESS_KINDS, LEGAL_FORMS, BUSINESS_KINDS.map(slug)],
    );
    // Namesake companies get a number in their domain: rossiimpianti.…, rossiimpianti2.…
    await tx.exec(`UPDATE bench_holders h SET company_number = n.number
                     FROM (SELECT i, row_number() OVER (PARTITION BY company_slug ORDER BY i) AS number FROM bench_holders WHERE business) n
                    WHERE h.i = n.i`);
    await tx.query(
      `INSERT INTO customers (id, name, tax_code, reference_email, locale, created_at)
       SELECT 'cus_s' || lpad(i::text, 8, '0'), name, tax_code,
              CASE WHEN business THEN 'amministrazione@' || company_slug || CASE WHEN company_number > 1 THEN company_number::text ELSE '' END || '.example'
                   ELSE given_slug || '.' || family_slug || (i % 97) || '@' || ($1::text[])[1 + i % cardinality($1::text[])] END,
              CASE WHEN i % 20 = 0 THEN 'en' ELSE 'it' END, now()
         FROM bench_holders`,
      [REFERENCE_DOMAINS],
    );

    step('billing data');
    // Companies bill to their partita IVA (also their codice fiscale); six people in ten gave theirs.
    await tx.exec(
      `INSERT INTO billing_profiles (customer_id, profile, updated_at)
       SELECT 'cus_s' || lpad(i::text, 8, '0'),
              CASE WHEN business
                   THEN jsonb_build_object('kind', 'business', 'companyName', name, 'givenName', null, 'familyName', null,
                                           'taxCode', tax_code, 'vatNumber', tax_code, 'sdiCode', 'M5UXCR1', 'sdiPec', null,
                                           'address', jsonb_build_object('street', 'Via Roma', 'streetNumber', (1 + i % 200)::text, 'postalCode', '00184', 'city', 'Roma', 'province', 'RM', 'country', 'IT'))
                   ELSE jsonb_build_object('kind', 'person', 'companyName', null, 'givenName', given, 'familyName', family,
                                           'taxCode', tax_code, 'vatNumber', null, 'sdiCode', '0000000', 'sdiPec', null,
                                           'address', jsonb_build_object('street', 'Via Garibaldi', 'streetNumber', (1 + i % 200)::text, 'postalCode', '20121', 'city', 'Milano', 'province', 'MI', 'country', 'IT'))
              END, now()
         FROM bench_holders WHERE business OR i % 10 < 6`,
    );

    step('mailboxes');
    // 2N mailboxes: one each; a second for six holders in ten; the rest to companies, about three more
    // each. A person's address is the name in one of four shapes (mario.rossi, m.rossi, rossi.mario,
    // mariorossi), numbered from the second namesake on; a company's are offices on its own domain.
    await tx.query(
      `WITH owners AS (
         SELECT j, CASE WHEN j <= $1 THEN j
                        WHEN j - $1 <= $1 * 6 / 10 THEN 1 + ((j - $1 - 1)::bigint * 7919 % $1)::int
                        ELSE $2 * (1 + (j - $1 - $1 * 6 / 10 - 1) % greatest(1, $1 / $2)) END AS i,
                   -- Which of the holder's mailboxes this is (first, second, then a company's third, fourth…).
                   CASE WHEN j <= $1 THEN 0 WHEN j - $1 <= $1 * 6 / 10 THEN 1
                        ELSE 2 + (j - $1 - $1 * 6 / 10 - 1) / greatest(1, $1 / $2) END AS slot
           FROM generate_series(1, 2 * $1::int) AS j
       ), named AS (
         SELECT o.j, 'cus_s' || lpad(o.i::text, 8, '0') AS customer_id,
                CASE WHEN h.business
                     THEN ($3::text[])[1 + (o.slot + o.i / $2) % cardinality($3::text[])] || '@' || h.company_slug
                          || CASE WHEN h.company_number > 1 THEN h.company_number::text ELSE '' END || '.' || $4
                     ELSE CASE (CASE WHEN o.slot = 0 THEN 0 ELSE 1 + o.j % 3 END)
                            WHEN 0 THEN h.given_slug || '.' || h.family_slug
                            WHEN 1 THEN left(h.given_slug, 1) || '.' || h.family_slug
                            WHEN 2 THEN h.family_slug || '.' || h.given_slug
                            ELSE h.given_slug || h.family_slug END || '@' || $4 END AS base
           FROM owners o JOIN bench_holders h ON h.i = o.i
       ), numbered AS (
         SELECT j, customer_id, base, row_number() OVER (PARTITION BY base ORDER BY j) - 1 AS namesake FROM named
       )
       INSERT INTO mailboxes (id, customer_id, address, password_hash, type, status, expires_on, created_at, updated_at)
       SELECT 'mbx_s' || lpad(j::text, 8, '0'), customer_id,
              CASE WHEN namesake = 0 THEN base ELSE split_part(base, '@', 1) || namesake || '@' || split_part(base, '@', 2) END,
              'x', CASE WHEN j % 10 = 0 THEN 'pro' ELSE 'standard' END, 'active', DATE '2027-01-01' + (j % 365)::int, now(), now()
         FROM numbered`,
      [holders, BUSINESS_EVERY, BUSINESS_MAILBOXES, PEC_DOMAIN],
    );

    step('invoices');
    // A fifth of the holders paid once: a top-up and its invoice, numbered 1, 2, … in one year.
    await tx.query(
      `INSERT INTO topups (id, customer_id, amount_cents, vat_cents, charge_cents, status, gateway, created_at, vat_rate_basis_points)
       SELECT 'top_s' || lpad(n::text, 8, '0'), 'cus_s' || lpad((n * $2)::text, 8, '0'), 1000, 220, 1220, 'succeeded', 'test', now(), 2200
         FROM generate_series(1, $1::int / $2) AS n`,
      [holders, INVOICE_EVERY],
    );
    await tx.query(
      `INSERT INTO invoices (id, customer_id, topup_id, year, sequence, number, issued_on, document_type, net_cents, vat_cents, total_cents,
                             vat_rate_basis_points, buyer, seller, transmission_seq, file_name, sdi_status, next_attempt_at, created_at)
       SELECT 'inv_s' || lpad(n::text, 8, '0'), 'cus_s' || lpad((n * $3)::text, 8, '0'), 'top_s' || lpad(n::text, 8, '0'), $2::int, n,
              $2::int || '/' || lpad(n::text, 6, '0'), make_date($2::int, 1, 1) + (n::bigint * 364 / ($1::int / $3))::int,
              'TD01', 1000, 220, 1220, 2200, '{}'::jsonb, '{}'::jsonb, -n, 'IT_search_' || n || '.xml', 'delivered', now(), now()
         FROM generate_series(1, $1::int / $3) AS n`,
      [holders, INVOICE_YEAR, INVOICE_EVERY],
    );
    await tx.query('INSERT INTO invoice_counters (year, last_number) SELECT $1::int, $2::int WHERE $2::int > 0', [INVOICE_YEAR, Math.floor(holders / INVOICE_EVERY)]);

    step('indexes and keys');
    for (const index of indexes) await tx.exec(index.definition);
    for (const key of foreignKeys) await tx.exec(`ALTER TABLE ${key.table_name} ADD CONSTRAINT ${key.name} ${key.definition}`);
  });
  step('vacuum and statistics');
  for (const table of BULK_TABLES) await db.exec(`VACUUM ANALYZE ${table}`);
  return { holders, mailboxes: 2 * holders, invoices: Math.floor(holders / INVOICE_EVERY) };
}

/** A holder's searchable facts, read back from the book to make the searches. */
export interface BookHolder {
  id: string;
  name: string;
  taxCode: string;
  vatNumber: string | null;
  referenceEmail: string;
  addresses: string[];
  invoiceNumber: string | null;
}

export async function readHolders(db: Queryable, ids: string[]): Promise<BookHolder[]> {
  const rows = await db.query<{ id: string; name: string; tax_code: string; vat_number: string | null; reference_email: string; addresses: string[]; invoice_number: string | null }>(
    `SELECT c.id, c.name, c.tax_code, bp.profile->>'vatNumber' AS vat_number, c.reference_email,
            ARRAY(SELECT address FROM mailboxes m WHERE m.customer_id = c.id ORDER BY m.id) AS addresses,
            (SELECT number FROM invoices i WHERE i.customer_id = c.id LIMIT 1) AS invoice_number
       FROM customers c LEFT JOIN billing_profiles bp ON bp.customer_id = c.id
      WHERE c.id = ANY($1::text[])`,
    [ids],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => {
    const r = byId.get(id)!;
    return { id, name: r.name, taxCode: r.tax_code, vatNumber: r.vat_number, referenceEmail: r.reference_email, addresses: r.addresses, invoiceNumber: r.invoice_number };
  });
}

export const holderId = (i: number): string => `cus_s${String(i).padStart(8, '0')}`;
export const isBusiness = (i: number): boolean => i % BUSINESS_EVERY === 0;
export const hasInvoice = (i: number): boolean => i % INVOICE_EVERY === 0;
