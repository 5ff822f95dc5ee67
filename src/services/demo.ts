// `casella seed --demo` and the first `npm start`: a holder to log in with, and mailboxes that show
// both sides of the three-month rule (R4).
import { addDays, addMonths } from '../domain/calendar.ts';
import { clock } from '../clock.ts';
import { SYSTEM } from './audit.ts';
import type { ServiceContext } from './context.ts';
import { createCustomer, createMailbox } from './provision.ts';
import { adjustCredit } from './credit.ts';

export const DEMO_PASSWORD = 'demo-casella-2026';

export interface DemoLogin {
  customerId: string;
  addresses: string[];
  password: string;
}

export async function seedDemo(ctx: ServiceContext): Promise<DemoLogin | null> {
  const exists = await ctx.db.query(`SELECT 1 FROM mailboxes WHERE address = 'studio.rossi@pec.casella.test'`);
  if (exists.length) return null;
  const today = clock.today();
  const customer = await createCustomer(ctx, SYSTEM, {
    name: 'Studio Rossi',
    taxCode: 'RSSMRA80A01H501U',
    referenceEmail: 'mario.rossi@example.com',
    locale: 'it',
  });
  const mailboxes = [
    { address: 'studio.rossi@pec.casella.test', type: 'pro' as const, expiresOn: addMonths(today, 8) },
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
  return { customerId: customer.id, addresses: mailboxes.map((m) => m.address), password: DEMO_PASSWORD };
}
