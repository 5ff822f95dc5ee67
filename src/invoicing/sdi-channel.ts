// R15: the channels invoices reach SdI through. `directory` hands files to the provider's
// intermediary or conservation software as atomic files; `simulator` stands in for SdI in
// development and tests and, like SdI, answers later: RC delivered, NS rejected with error codes,
// MC not delivered (the invoice stays available in the buyer's cassetto fiscale).
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Queryable } from '../db/database.ts';
import type { SdiOutcome } from '../services/billing/invoices.ts';

export interface SdiFile {
  fileName: string;
  xml: string;
}

export interface SdiAnswer {
  fileName: string;
  outcome: SdiOutcome;
}

export interface SdiChannel {
  readonly name: 'simulator' | 'directory';
  /** Hands one file over; throws when it could not (it is then tried again later). Sending a file twice is harmless. */
  send(file: SdiFile, at: Date): Promise<void>;
  /**
   * SdI's answers that have arrived, at most `limitMax`, taken inside the caller's transaction so
   * that taking an answer and recording it commit together.
   */
  takeAnswers(tx: Queryable, at: Date, limitMax: number): Promise<SdiAnswer[]>;
}

/**
 * An invoice names the buyer, the codice fiscale and the address: the files are the provider's and
 * the intermediary's (its group) to read, nobody else's. The folder is made 0750, and a folder that
 * was there loses what it gave to everyone else.
 */
export const SDI_FILE_MODE = 0o640;
export const SDI_DIRECTORY_MODE = 0o750;

async function preparedFolder(dir: string): Promise<void> {
  const made = await mkdir(dir, { recursive: true, mode: SDI_DIRECTORY_MODE });
  const { mode } = await stat(dir);
  const wanted = made !== undefined ? SDI_DIRECTORY_MODE : mode & 0o7770;
  if ((mode & 0o7777) !== wanted) await chmod(dir, wanted);
}

/** Writes each file under a temporary name, flushes it, then renames it: readers never see half a file. */
export function directoryChannel(dir: string): SdiChannel {
  let ready: Promise<unknown> | null = null;
  return {
    name: 'directory',
    async send(file) {
      ready ??= preparedFolder(dir).catch((err) => {
        ready = null;
        throw err;
      });
      await ready;
      const target = join(dir, file.fileName);
      const temporary = join(dir, `.${file.fileName}.${randomBytes(6).toString('hex')}.tmp`);
      const handle = await open(temporary, 'wx', SDI_FILE_MODE);
      try {
        await handle.writeFile(file.xml, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await rename(temporary, target);
      } catch (err) {
        await unlink(temporary).catch(() => {});
        throw err;
      }
      // The rename itself survives a power cut only once the folder is flushed too.
      const folder = await open(dir, 'r');
      try {
        await folder.sync();
      } finally {
        await folder.close();
      }
    },
    // The intermediary reports SdI's answers to the operator, who records them (docs/API.md).
    async takeAnswers() {
      return [];
    },
  };
}

/**
 * The simulator's answer, chosen by the Codice Destinatario, so a test or a demo can ask for each
 * outcome: SCARTO0 is a code SdI does not know (NS, error 00311), MANCATA a recipient that cannot be
 * reached (MC); any other code is delivered (RC).
 */
export const SIMULATOR_REJECTED_CODE = 'SCARTO0';
export const SIMULATOR_NOT_DELIVERED_CODE = 'MANCATA';
export function simulatorVerdict(xml: string): { outcome: 'RC' | 'NS' | 'MC'; message: string | null } {
  const code = /<CodiceDestinatario>([^<]*)<\/CodiceDestinatario>/.exec(xml)?.[1];
  if (!code) return { outcome: 'NS', message: '00200: file non conforme al formato (CodiceDestinatario assente)' };
  if (code === SIMULATOR_REJECTED_CODE) return { outcome: 'NS', message: '00311: 1.1.4 <CodiceDestinatario> non valido' };
  if (code === SIMULATOR_NOT_DELIVERED_CODE) {
    return { outcome: 'MC', message: 'Impossibilità di recapito al destinatario: fattura a disposizione nell\'area riservata (cassetto fiscale)' };
  }
  return { outcome: 'RC', message: null };
}

const OUTCOME_STATUS = { RC: 'delivered', NS: 'rejected', MC: 'not_delivered' } as const;

/** The simulator keeps what it received in the database, so its answers survive a restart as SdI's would. */
export function simulatorChannel(db: Queryable, answerDelayMs: number): SdiChannel {
  return {
    name: 'simulator',
    async send(file, at) {
      const verdict = simulatorVerdict(file.xml);
      // The same file name twice is one file at SdI too (it would refuse the copy as a duplicate).
      await db.query(
        `INSERT INTO sdi_simulator_files (file_name, received_at, answer_due_at, outcome, message)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (file_name) DO NOTHING`,
        [file.fileName, at, new Date(at.getTime() + answerDelayMs), verdict.outcome, verdict.message],
      );
    },
    async takeAnswers(tx, at, limitMax) {
      const rows = await tx.query<{ file_name: string; outcome: 'RC' | 'NS' | 'MC'; message: string | null }>(
        `UPDATE sdi_simulator_files SET answered_at = $1
          WHERE file_name IN (SELECT file_name FROM sdi_simulator_files
                               WHERE answered_at IS NULL AND answer_due_at <= $1
                               ORDER BY answer_due_at LIMIT $2 FOR UPDATE SKIP LOCKED)
          RETURNING file_name, outcome, message`,
        [at, limitMax],
      );
      return rows.map((r) => ({ fileName: r.file_name, outcome: { status: OUTCOME_STATUS[r.outcome], message: r.message } }));
    },
  };
}
