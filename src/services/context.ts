import type { Database } from '../db/database.ts';
import type { Catalogue } from '../domain/catalogue.ts';
import type { Seller } from '../domain/invoice.ts';
import type { BankAccount } from '../domain/bank-transfer.ts';

/** What every service needs: the database, the catalogue, and where links in e-mails point. */
export interface ServiceContext {
  db: Database;
  catalogue: Catalogue;
  publicUrl: string;
  /** R12: how long a session lives at most, however busy (CASELLA_SESSION_LIFETIME_HOURS); 12 h unless set. */
  sessionLifetimeMs?: number;
  /** R15: who issues the invoices (CASELLA_CONFIG `seller`); the demo seller when absent, outside production only. */
  seller?: Seller;
  /** R17: the account bank transfers are paid to (CASELLA_CONFIG `bankTransfer`); undefined: the demo
   * account (outside production); null: transfers are not offered. */
  bankTransfer?: BankAccount | null;
}
