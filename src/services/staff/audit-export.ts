// R19: the audit trail as CSV for auditors, streamed in pages (newest first) so memory stays flat
// however long the trail; free text is made inert for spreadsheets like the VAT register's.
import type { Queryable } from '../../db/database.ts';
import { csvLine, spreadsheetSafe } from '../../invoicing/register.ts';
import { AUDIT_PAGE_MAX, readAudit, type AuditFilter } from '../audit.ts';

export const AUDIT_EXPORT_HEADER = ['id', 'quando', 'tipo_autore', 'autore_id', 'autore', 'azione', 'titolare', 'casella', 'motivo', 'prima', 'dopo'];

export async function* auditCsv(db: Queryable, filter: AuditFilter): AsyncGenerator<string> {
  yield csvLine(AUDIT_EXPORT_HEADER);
  let beforeId = filter.beforeId;
  for (;;) {
    const page = await readAudit(db, { ...filter, beforeId, limit: AUDIT_PAGE_MAX });
    for (const e of page) {
      yield csvLine([
        e.id, e.at, e.actor.kind, e.actor.id ?? '', spreadsheetSafe(e.actor.name ?? ''), e.action, e.customerId ?? '', e.mailboxId ?? '',
        spreadsheetSafe(e.reason ?? ''), spreadsheetSafe(e.before === null ? '' : JSON.stringify(e.before)), spreadsheetSafe(e.after === null ? '' : JSON.stringify(e.after)),
      ]);
    }
    if (page.length < AUDIT_PAGE_MAX) return;
    beforeId = Number(page[page.length - 1]!.id);
  }
}
