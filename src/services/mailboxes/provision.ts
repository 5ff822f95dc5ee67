// Operators create holders and mailboxes (R12: operators act with their own credentials).
import { normaliseAddress, normaliseMailboxAddress } from '../../domain/address.ts';
import { provisionedExpiryProblem } from '../../domain/mailbox.ts';
import { MAILBOX_TYPES, type MailboxType } from '../../domain/catalogue.ts';
import { codiceFiscaleProblem } from '../../domain/fiscal-codes.ts';
import { passwordWeakness, WEAKNESS_MESSAGE } from '../../domain/password-strength.ts';
import type { Result } from '../../domain/result.ts';
import { newId } from '../../ids.ts';
import { clock } from '../../clock.ts';
import { LOCALES, type Locale } from '../../i18n/format.ts';
import { audit, type Actor } from '../audit.ts';
import type { ServiceContext } from '../context.ts';
import { DomainError, invalid, notFound, requireReason } from '../errors.ts';
import type { Queryable, Tx } from '../../db/database.ts';
import { hashPassword } from '../access/passwords.ts';
import { nameProblem } from '../access/profile.ts';
import { endSessionsOf } from '../access/sessions.ts';
import { lockMailbox, readCustomer, readMailbox, type CustomerRow, type MailboxRow } from '../rows.ts';
import { checkUsage } from './usage.ts';

export interface NewCustomer {
  name: string;
  taxCode?: string | null;
  referenceEmail: string;
  locale?: Locale;
  /** R19: why, for the audit trail (optional in the API, asked by the console). */
  reason?: string | null;
}

/**
 * Issue 19: the operator sets a mailbox password by the same rule as the holder choosing one
 * (docs/RULES.md "Choosing a mailbox password"): the password opens IMAP and submission too, and "password" is not one.
 */
export const mailboxPasswordProblem = (password: string, address: string): string | null => {
  const weakness = passwordWeakness(password, address, '');
  return weakness ? WEAKNESS_MESSAGE[weakness] : null;
};

/**
 * The customer's codice fiscale as the holder's billing form checks it (issue 19: "XYZ" was
 * accepted): a person's 16 characters with the check character, or a company's 11 digits with the
 * check digit. Upper case, as the Agenzia delle Entrate writes it; null when none is given.
 */
function customerTaxCode(raw: string | null | undefined): Result<string | null, string> {
  const code = raw?.trim().toUpperCase() ?? '';
  if (!code) return { ok: true, value: null };
  const problem = codiceFiscaleProblem(code, { allowNumeric: true });
  return problem ? { ok: false, error: problem } : { ok: true, value: code };
}

/** A new holder's fields checked as the holder's own forms check them, or 422 naming each wrong one. */
function checkNewCustomer(input: NewCustomer): { name: string; taxCode: string | null; referenceEmail: string; locale: Locale } {
  const fields: Record<string, string> = {};
  const name = nameProblem(input.name);
  if (name) fields.name = name;
  const referenceEmail = normaliseAddress(input.referenceEmail);
  if (!referenceEmail.ok) fields.referenceEmail = referenceEmail.error;
  const taxCode = customerTaxCode(input.taxCode);
  if (!taxCode.ok) fields.taxCode = taxCode.error;
  if (input.locale !== undefined && !LOCALES.includes(input.locale)) fields.locale = `must be one of ${LOCALES.map((l) => `"${l}"`).join(', ')}`;
  if (Object.keys(fields).length || !referenceEmail.ok || !taxCode.ok) throw invalid(fields);
  return { name: input.name.trim(), taxCode: taxCode.value, referenceEmail: referenceEmail.value, locale: input.locale ?? 'it' };
}

async function insertCustomer(tx: Tx, actor: Actor, c: ReturnType<typeof checkNewCustomer>, reason: string | null, now: Date): Promise<CustomerRow> {
  const id = newId('cus');
  const [row] = await tx.query<CustomerRow>(
    `INSERT INTO customers (id, name, tax_code, reference_email, locale, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
    [id, c.name, c.taxCode, c.referenceEmail, c.locale, now],
  );
  await tx.query('INSERT INTO wallets (customer_id, balance_cents, updated_at) VALUES ($1, 0, $2)', [id, now]);
  await audit(tx, actor, { action: 'customer.create', entityKind: 'customer', entityId: id, reason, after: row }, now);
  return row!;
}

export async function createCustomer(ctx: ServiceContext, actor: Actor, input: NewCustomer): Promise<CustomerRow> {
  const checked = checkNewCustomer(input);
  const reason = optionalReason(input.reason);
  const now = clock.now();
  return ctx.db.transaction((tx) => insertCustomer(tx, actor, checked, reason, now));
}

export interface NewMailbox {
  customerId: string;
  address: string;
  password: string;
  type: MailboxType;
  expiresOn: string;
  usedBytes?: number;
  /** R19: why, for the audit trail (optional in the API, asked by the console). */
  reason?: string | null;
}
type MailboxFields = Omit<NewMailbox, 'customerId' | 'reason'>;
interface CheckedMailbox {
  address: string;
  passwordHash: string;
  type: MailboxType;
  expiresOn: string;
  usedBytes: number;
}

/** A new mailbox's fields checked (R14 address, the holders' password rule, type, expiry), or 422 naming each wrong one under `prefix`. */
async function checkNewMailbox(input: MailboxFields, prefix = ''): Promise<CheckedMailbox> {
  const fields: Record<string, string> = {};
  // R14: only an address the mail server serves is sold (one rule, src/domain/address.ts).
  const normalised = normaliseMailboxAddress(input.address);
  if (!normalised.ok) fields[`${prefix}address`] = normalised.error;
  const address = normalised.ok ? normalised.value : '';
  const pw = mailboxPasswordProblem(input.password, address || input.address);
  if (pw) fields[`${prefix}password`] = pw;
  if (!MAILBOX_TYPES.includes(input.type)) fields[`${prefix}type`] = `must be one of ${MAILBOX_TYPES.map((t) => `"${t}"`).join(', ')}`;
  const expiryProblem = provisionedExpiryProblem(input.expiresOn, clock.today());
  if (expiryProblem) fields[`${prefix}expiresOn`] = expiryProblem;
  if (input.usedBytes !== undefined && !(Number.isSafeInteger(input.usedBytes) && input.usedBytes >= 0)) {
    fields[`${prefix}usedBytes`] = 'must be a whole number of bytes >= 0';
  }
  if (Object.keys(fields).length) throw invalid(fields);
  return { address, passwordHash: await hashPassword(input.password), type: input.type, expiresOn: input.expiresOn, usedBytes: input.usedBytes ?? 0 };
}

async function insertMailbox(tx: Tx, actor: Actor, customerId: string, m: CheckedMailbox, reason: string | null, now: Date): Promise<MailboxRow> {
  await checkAddressFree(tx, m.address, customerId);
  const id = newId('mbx');
  await tx.query(
    `INSERT INTO mailboxes (id, customer_id, address, password_hash, type, expires_on, used_bytes, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
    [id, customerId, m.address, m.passwordHash, m.type, m.expiresOn, m.usedBytes, now],
  );
  const row = (await readMailbox(tx, id, null))!;
  await audit(tx, actor, { action: 'mailbox.create', entityKind: 'mailbox', entityId: id, reason, after: row }, now);
  return row;
}

export async function createMailbox(ctx: ServiceContext, actor: Actor, input: NewMailbox): Promise<MailboxRow> {
  const checked = await checkNewMailbox(input);
  const reason = optionalReason(input.reason);
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    if (!(await readCustomer(tx, input.customerId))) throw invalid({ customerId: 'no such customer' });
    return insertMailbox(tx, actor, input.customerId, checked, reason, now);
  });
}

/** The most mailboxes one provisioning creates with its holder (more are added one at a time). */
export const PROVISION_MAILBOXES_MAX = 20;

/**
 * R19, admin: a new holder with its mailboxes, all or nothing in one transaction — a mailbox whose
 * address is taken leaves no holder behind. Fields of the i-th mailbox are named `mailboxes.i.field`.
 */
export async function provisionHolder(
  ctx: ServiceContext,
  actor: Actor,
  input: NewCustomer & { mailboxes: MailboxFields[] },
): Promise<{ customer: CustomerRow; mailboxes: MailboxRow[] }> {
  const reason = optionalReason(input.reason);
  let fields: Record<string, string> = {};
  const collect = async <T>(step: () => T | Promise<T>): Promise<T | null> => {
    try {
      return await step();
    } catch (err) {
      if (!(err instanceof DomainError) || err.code !== 'validation_failed') throw err;
      fields = { ...fields, ...err.fields };
      return null;
    }
  };
  if (input.mailboxes.length > PROVISION_MAILBOXES_MAX) throw invalid({ mailboxes: `at most ${PROVISION_MAILBOXES_MAX} at once` });
  const customer = await collect(() => checkNewCustomer(input));
  const mailboxes: (CheckedMailbox | null)[] = [];
  for (const [i, m] of input.mailboxes.entries()) mailboxes.push(await collect(() => checkNewMailbox(m, `mailboxes.${i}.`)));
  const addresses = mailboxes.map((m) => m?.address);
  addresses.forEach((a, i) => {
    if (a && addresses.indexOf(a) !== i) fields[`mailboxes.${i}.address`] = 'is given twice';
  });
  if (Object.keys(fields).length || !customer) throw invalid(fields);
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const row = await insertCustomer(tx, actor, customer, reason, now);
    const made: MailboxRow[] = [];
    for (const [i, m] of (mailboxes as CheckedMailbox[]).entries()) {
      try {
        made.push(await insertMailbox(tx, actor, row.id, m, reason, now));
      } catch (err) {
        // The field is the i-th mailbox's address, as the form names it.
        if (err instanceof DomainError && err.fields?.address) throw new DomainError(err.code, err.message, { [`mailboxes.${i}.address`]: err.fields.address });
        throw err;
      }
    }
    return { customer: row, mailboxes: made };
  });
}

/** A reason given to a call where it is optional: trimmed, blank as none, at most REASON_LENGTH_MAX. */
function optionalReason(reason: string | null | undefined): string | null {
  if (reason === undefined || reason === null || !reason.trim()) return null;
  return requireReason(reason);
}

/**
 * Operator changes: usage reported by the mail platform, or a new password. R11: the usage is
 * checked against the warning thresholds in the same transaction, so a crossing is told at once.
 */
export async function updateMailboxAsOperator(
  ctx: ServiceContext,
  actor: Actor,
  mailboxId: string,
  change: { usedBytes?: number; password?: string },
): Promise<MailboxRow> {
  const fields: Record<string, string> = {};
  if (change.usedBytes !== undefined && !(Number.isSafeInteger(change.usedBytes) && change.usedBytes >= 0)) {
    fields.usedBytes = 'must be a whole number of bytes >= 0';
  }
  if (change.password !== undefined) {
    // The rule names the mailbox's own address, so the mailbox is read first (an unknown one is 404).
    const mailbox = await readMailbox(ctx.db, mailboxId, null);
    if (!mailbox) throw notFound('mailbox');
    const pw = mailboxPasswordProblem(change.password, mailbox.address);
    if (pw) fields.password = pw;
  }
  if (Object.keys(fields).length) throw invalid(fields);
  const passwordHash = change.password === undefined ? null : await hashPassword(change.password);
  const now = clock.now();
  return ctx.db.transaction(async (tx) => {
    const before = await lockMailbox(tx, mailboxId, null);
    if (!before) throw notFound('mailbox');
    await tx.query(
      `UPDATE mailboxes SET used_bytes = coalesce($2, used_bytes), password_hash = coalesce($3, password_hash), updated_at = $4
        WHERE id = $1`,
      [mailboxId, change.usedBytes ?? null, passwordHash, now],
    );
    if (passwordHash !== null) await endSessionsOf(tx, before.customer_id);
    const after = (await readMailbox(tx, mailboxId, null))!;
    await audit(
      tx,
      actor,
      {
        action: 'mailbox.update',
        entityKind: 'mailbox',
        entityId: mailboxId,
        before: { usedBytes: before.used_bytes },
        after: { usedBytes: after.used_bytes, passwordChanged: passwordHash !== null },
      },
      now,
    );
    await checkUsage(tx, ctx, after);
    return after;
  });
}

/** A holder's fiscal identities: the codice fiscale on record and those of the billing data, upper case. */
const IDENTITIES_SQL = `SELECT upper(x) AS id FROM (
    SELECT c.tax_code AS x FROM customers c WHERE c.id = $1
    UNION ALL SELECT b.profile->>'taxCode' FROM billing_profiles b WHERE b.customer_id = $1
    UNION ALL SELECT b.profile->>'vatNumber' FROM billing_profiles b WHERE b.customer_id = $1) ids
  WHERE x IS NOT NULL AND x <> ''`;

/**
 * An address is free when no live mailbox has it. One that was terminated may be created again only
 * for a holder with the same codice fiscale or partita IVA as its last holder (R19, AgID: a PEC
 * address is never reassigned to someone else): otherwise 409 address_reserved.
 */
export async function checkAddressFree(db: Queryable, address: string, customerId: string): Promise<void> {
  const rows = await db.query<{ customer_id: string; status: string }>(
    'SELECT customer_id, status FROM mailboxes WHERE lower(address) = $1 ORDER BY status = \'terminated\', updated_at DESC',
    [address],
  );
  if (!rows.length) return;
  if (rows[0]!.status !== 'terminated') throw invalid({ address: 'is already taken' });
  const lastHolder = rows[0]!.customer_id;
  if (lastHolder === customerId) return;
  const [same] = await db.query(`SELECT 1 FROM (${IDENTITIES_SQL}) a JOIN (${IDENTITIES_SQL.replaceAll('$1', '$2')}) b ON a.id = b.id LIMIT 1`, [lastHolder, customerId]);
  if (!same) {
    throw new DomainError('address_reserved', 'This PEC address belonged to another holder: it can be created again only for a holder with the same codice fiscale or partita IVA', { address: 'reserved for its last holder' });
  }
}
