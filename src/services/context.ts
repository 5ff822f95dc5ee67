import type { Database } from '../db/database.ts';
import type { Catalogue } from '../domain/catalogue.ts';

/** What every service needs: the database, the catalogue, and where links in e-mails point. */
export interface ServiceContext {
  db: Database;
  catalogue: Catalogue;
  publicUrl: string;
}
