// R19 (issue 21): staff search on both engines — each kind of text finds its holder, best first, at
// most 50, through the lookups src/domain/staff-search.ts chooses; and the same answers on PGlite and
// PostgreSQL, since the console runs on either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database, Queryable } from '../../src/db/database.ts';
import { NAME_CANDIDATES_MAX, SEARCH_RESULTS_MAX, searchHolders, type SearchResult } from '../../src/services/staff/search.ts';
import { engineNames, forEachEngine, openTestEngine } from '../support/engines.ts';

interface Holder {
  id: string;
  name: string;
  taxCode?: string;
  referenceEmail: string;
  addresses: string[];
  profile?: Record<string, unknown>;
  invoice?: { year: number; sequence: number };
}

const HOLDERS: Holder[] = [
  { id: 'cus_alberti', name: 'Nicolò Àlberti', taxCode: 'LBRNCL80A01H501U', referenceEmail: 'Amministrazione@Alberti.example', addresses: ['nicolo.alberti@pec.example.it'] },
  {
    id: 'cus_ferramenta',
    name: 'Mario Rossi',
    referenceEmail: 'mario@ferramenta.example',
    addresses: ['info@ferramentazappala.pec.example.it', 'fatture@ferramentazappala.pec.example.it'],
    profile: { kind: 'business', companyName: 'Ferramenta Zappalà S.r.l.', vatNumber: '01234567890', taxCode: '01234567890' },
    invoice: { year: 2026, sequence: 42 },
  },
  { id: 'cus_dangelo', name: "Anna D'Angelo", taxCode: 'DNGNNA70A41F205Z', referenceEmail: 'anna@dangelo.example', addresses: ['anna.dangelo@pec.example.it'] },
  { id: 'cus_deluca', name: 'Marco De Luca', taxCode: 'DLCMRC75B12L219K', referenceEmail: 'marco@deluca.example', addresses: ['marco.deluca@pec.example.it'] },
  { id: 'cus_luca', name: 'Luca Bianco', taxCode: 'BNCLCU90C03D612P', referenceEmail: 'luca@bianco.example', addresses: ['luca.bianco@pec.example.it'] },
  { id: 'cus_valeria', name: 'Valeria Bianchi', taxCode: 'BNCVLR82D44A944Q', referenceEmail: 'valeria@bianchi.example', addresses: ['v.bianchi@pec.example.it'] },
  { id: 'cus_camilla', name: 'Camilla Bianchi', taxCode: 'BNCCLL83E45A944R', referenceEmail: 'camilla@bianchi.example', addresses: ['camilla.bianchi@pec.example.it'] },
  { id: 'cus_fratelli', name: 'Ferramenta F.lli Bianchi', referenceEmail: 'fratelli@bianchi.example', addresses: ['negozio@fllibianchi.pec.example.it'] },
  { id: 'cus_studio', name: 'Giulia Verdi', taxCode: 'VRDGLI88F46H501S', referenceEmail: 'giulia@verdi.example', addresses: ['rossi.studio@pec.example.it'] },
];

async function addHolder(db: Queryable, h: Holder): Promise<void> {
  await db.query(`INSERT INTO customers (id, name, tax_code, reference_email, created_at) VALUES ($1, $2, $3, $4, now())`, [h.id, h.name, h.taxCode ?? null, h.referenceEmail]);
  for (const [n, address] of h.addresses.entries()) {
    await db.query(
      `INSERT INTO mailboxes (id, customer_id, address, password_hash, type, status, expires_on, created_at, updated_at)
       VALUES ($1, $2, $3, 'x', 'standard', 'active', DATE '2027-06-01', now(), now())`,
      [`mbx_${h.id}_${n}`, h.id, address],
    );
  }
  if (h.profile) await db.query(`INSERT INTO billing_profiles (customer_id, profile, updated_at) VALUES ($1, $2::jsonb, now())`, [h.id, JSON.stringify(h.profile)]);
  if (h.invoice) {
    const { year, sequence } = h.invoice;
    await db.query(`INSERT INTO topups (id, customer_id, amount_cents, vat_cents, charge_cents, status, gateway, created_at) VALUES ($1, $2, 1000, 220, 1220, 'succeeded', 'test', now())`, [`top_${h.id}`, h.id]);
    await db.query(
      `INSERT INTO invoices (id, customer_id, topup_id, year, sequence, number, issued_on, document_type, net_cents, vat_cents, total_cents,
                             vat_rate_basis_points, buyer, seller, transmission_seq, file_name, sdi_status, next_attempt_at, created_at)
       VALUES ($1, $2, $3, $4::int, $5::int, $4::int || '/' || lpad($5::text, 6, '0'), DATE '2026-03-01', 'TD01', 1000, 220, 1220, 2200, '{}', '{}', $5::int, $1 || '.xml', 'delivered', now(), now())`,
      [`inv_${h.id}`, h.id, `top_${h.id}`, year, sequence],
    );
  }
}

/** Holders named like "<given> Quaglia …": one plainly, one shortly, sixty at length, for the order and the bound. */
async function addQuaglias(db: Queryable): Promise<void> {
  await db.query(
    `INSERT INTO customers (id, name, reference_email, created_at)
     SELECT 'cus_quaglia_' || lpad(i::text, 3, '0'),
            CASE i WHEN 1 THEN 'Quaglia' WHEN 2 THEN 'Ugo Quaglia' ELSE 'Massimiliano Quaglia Bartolomei ' || i END,
            'quaglia' || i || '@example.test', now()
       FROM generate_series(1, 62) AS i`,
  );
}

/** Who a search finds, in order, and how. */
const found = async (db: Database, q: string) => (await searchHolders(db, q)).map((r) => `${r.customerId} ${r.matched}`);

/** Every search of the tests below, for the comparison of the two engines. */
const QUERIES = [
  'NICOLO.ALBERTI@PEC.EXAMPLE.IT', 'nicolo.alb', 'nicolo alberti', 'ALBERTI nicolò', 'lbert', 'lbrncl80a01h501u', 'LBR NCL 80A01 H501U',
  'Amministrazione@Alberti.example', 'IT 01234567890', '01234567890', 'ferramenta zappala', 'zappalà', '2026/000042', '2026/42', '2026-42',
  "d'angelo", 'de luca', 'luca', 'F.lli Bianchi', 'v.bianchi', 'bianchi', 'rossi', 'quaglia', '%', '_', 'zz', 'ZZZZZZ99Z99Z999Z', 'info@', 'Li Po',
];

forEachEngine('R19 staff search', (use) => {
  test('setup: the holders', async () => {
    for (const h of HOLDERS) await addHolder(use().db, h);
    await addQuaglias(use().db);
  });

  test('a whole address (any case) first, then addresses by their beginning', async () => {
    const { db } = use();
    assert.deepEqual(await found(db, 'NICOLO.ALBERTI@PEC.EXAMPLE.IT'), ['cus_alberti address']);
    assert.deepEqual(await found(db, 'nicolo.alb'), ['cus_alberti address']);
    const offices = await searchHolders(db, 'info@');
    assert.deepEqual(offices.map((r) => r.customerId), ['cus_ferramenta']);
    assert.deepEqual(offices[0]!.mailboxes, ['fatture@ferramentazappala.pec.example.it', 'info@ferramentazappala.pec.example.it'], 'with the holder\'s mailboxes');
  });

  test('any part of the name, accents and case ignored, words in any order; a company by its name in the billing data', async () => {
    const { db } = use();
    for (const q of ['nicolo alberti', 'ALBERTI nicolò', 'lbert']) assert.deepEqual(await found(db, q), ['cus_alberti name'], q);
    for (const q of ['ferramenta zappala', 'zappalà']) assert.deepEqual(await found(db, q), ['cus_ferramenta name'], q);
    assert.deepEqual(await found(db, "d'angelo"), ['cus_dangelo name']);
  });

  test('a short word or one with punctuation must be in the name too, not only its longer pieces', async () => {
    const { db } = use();
    assert.deepEqual(await found(db, 'de luca'), ['cus_deluca name'], 'not Luca Bianco');
    assert.deepEqual(await found(db, 'luca'), ['cus_luca address', 'cus_deluca name'], 'a holder found twice is shown once, by the better match');
    // The index is asked for "lli" and "bianchi"; "F.lli" itself is checked: Camilla Bianchi holds both pieces, not the word.
    assert.deepEqual(await found(db, 'F.lli Bianchi'), ['cus_fratelli name']);
    assert.deepEqual(await found(db, 'v.bianchi'), ['cus_valeria address'], 'one word with a dot is an address');
  });

  test('codice fiscale (any case, with spaces), partita IVA (with or without IT), reference e-mail, invoice number as printed or shortened', async () => {
    const { db } = use();
    for (const q of ['lbrncl80a01h501u', 'LBR NCL 80A01 H501U']) assert.deepEqual(await found(db, q), ['cus_alberti taxCode'], q);
    assert.deepEqual(await found(db, 'Amministrazione@Alberti.example'), ['cus_alberti referenceEmail']);
    assert.deepEqual(await found(db, 'IT 01234567890'), ['cus_ferramenta vatNumber']);
    assert.deepEqual(await found(db, '01234567890'), ['cus_ferramenta taxCode'], 'a company\'s codice fiscale is its partita IVA');
    for (const q of ['2026/000042', '2026/42', '2026-42']) assert.deepEqual(await found(db, q), ['cus_ferramenta invoice'], q);
  });

  test('best first: an address\'s beginning before a name; among names the most similar; at most 50', async () => {
    const { db } = use();
    assert.deepEqual(await found(db, 'rossi'), ['cus_studio address', 'cus_ferramenta name']);
    const quaglias = await searchHolders(db, 'quaglia');
    assert.equal(quaglias.length, SEARCH_RESULTS_MAX);
    assert.deepEqual(quaglias.slice(0, 2).map((r) => r.name), ['Quaglia', 'Ugo Quaglia']);
    assert.ok(quaglias.every((r) => r.matched === 'name'));
  });

  test('nothing for wildcards, two letters, an unknown code, or words without three letters together', async () => {
    const { db } = use();
    for (const q of ['%', '_', 'zz', 'ZZZZZZ99Z99Z999Z', 'Li Po']) assert.deepEqual(await found(db, q), [], q);
    await assert.rejects(searchHolders(db, '   '), /Type something/);
    await assert.rejects(searchHolders(db, 'x'.repeat(201)), /Type something/);
  });

  test(`a name in more than ${NAME_CANDIDATES_MAX} rows: 50 of them, each holding it`, async () => {
    const { db } = use();
    await db.query(
      `INSERT INTO customers (id, name, reference_email, created_at)
       SELECT 'cus_pellegrino_' || i, 'Rossana Pellegrino ' || i, 'p' || i || '@example.test', now() FROM generate_series(1, $1::int) AS i`,
      [NAME_CANDIDATES_MAX + 100],
    );
    const results = await searchHolders(db, 'pellegrino');
    assert.equal(results.length, SEARCH_RESULTS_MAX);
    assert.ok(results.every((r) => r.name.startsWith('Rossana Pellegrino ') && r.matched === 'name'));
  });
});

test('the same answers on PGlite and PostgreSQL', { skip: engineNames().length < 2 && 'TEST_DATABASE_URL is not set' }, async () => {
  const answers: SearchResult[][][] = [];
  for (const name of engineNames()) {
    const { engine, close } = await openTestEngine(name);
    try {
      for (const h of HOLDERS) await addHolder(engine.db, h);
      await addQuaglias(engine.db);
      const mine: SearchResult[][] = [];
      for (const q of QUERIES) mine.push(await searchHolders(engine.db, q));
      answers.push(mine);
    } finally {
      await close();
    }
  }
  for (const [n, q] of QUERIES.entries()) assert.deepEqual(answers[1]![n], answers[0]![n], q);
  assert.ok(answers[0]!.filter((results) => results.length > 0).length >= 20, 'most of the searches find someone');
});
