// `casella seed --demo` and the first `npm start`: a holder to log in with, and mailboxes that show
// both sides of the three-month rule (R4).
import { addDays, addMonths } from '../domain/calendar.ts';
import { clock } from '../clock.ts';
import { SYSTEM } from './audit.ts';
import type { ServiceContext } from './context.ts';
import { createCustomer, createMailbox } from './mailboxes/provision.ts';
import { adjustCredit } from './billing/credit.ts';

export const DEMO_PASSWORD = 'demo-casella-2026';

export interface DemoLogin {
  customerId: string;
  addresses: string[];
  password: string;
  /** False when the demo holder was there already (its password may have been changed since). */
  created: boolean;
}

const DEMO_FIRST_ADDRESS = 'studio.rossi@pec.casella.test';

/** The demo holder, created when it is not there yet; its login either way (issue 19: printed again). */
export async function seedDemo(ctx: ServiceContext): Promise<DemoLogin> {
  const [existing] = await ctx.db.query<{ customer_id: string }>('SELECT customer_id FROM mailboxes WHERE address = $1', [DEMO_FIRST_ADDRESS]);
  if (existing) {
    const rows = await ctx.db.query<{ address: string }>('SELECT address FROM mailboxes WHERE customer_id = $1 ORDER BY created_at, address', [existing.customer_id]);
    return { customerId: existing.customer_id, addresses: rows.map((r) => r.address), password: DEMO_PASSWORD, created: false };
  }
  const today = clock.today();
  const customer = await createCustomer(ctx, SYSTEM, {
    name: 'Studio Rossi',
    taxCode: 'RSSMRA80A01H501U',
    referenceEmail: 'mario.rossi@example.com',
    locale: 'it',
  });
  const mailboxes = [
    { address: DEMO_FIRST_ADDRESS, type: 'pro' as const, expiresOn: addMonths(today, 8) },
    { address: 'mario.rossi@pec.casella.test', type: 'standard' as const, expiresOn: addDays(addMonths(today, 2), 10) },
  ];
  for (const m of mailboxes) {
    await createMailbox(ctx, SYSTEM, {
      customerId: customer.id,
      address: m.address,
      password: DEMO_PASSWORD,
      type: m.type,
      expiresOn: m.expiresOn.toString(),
      usedBytes: 700 * 1024 * 1024,
    });
  }
  await adjustCredit(ctx, SYSTEM, customer.id, 1000, 'Credito di benvenuto (dati dimostrativi)');
  return { customerId: customer.id, addresses: mailboxes.map((m) => m.address), password: DEMO_PASSWORD, created: true };
}
