// R20: how a process claims work that another process must take over if it dies (kill -9, a
// machine gone): rows are claimed with a short lease (their next attempt moved to the lease's end,
// plus a random claim token), the lease is extended while the work goes on, and rows whose lease
// ran out are due again for any process. A dead process stops extending, so what it had claimed is
// taken over within `CLAIM_LEASE_MS` (plus one round of the taker's loop). Work that may take long
// (an SMTP conversation with 30 s timeouts) stays claimed as long as its process is alive.
//
// Used by the e-mail outbox (src/mail/delivery.ts) and SdI delivery (src/invoicing/sdi-delivery.ts);
// any other claimed work (card charges) takes the same shape:
//   const claimed = await withLease(leaseMs, (token, until, ids) => UPDATE t SET next_attempt_at = until
//       WHERE id = ANY(ids) AND claim_token = token, async (lease) => { claim rows with lease.token and
//       lease.until(); for each: if (!lease.holds()) give it back; else work, then finish it WHERE
//       claim_token = lease.token; lease.release(id) })
import { randomUUID } from 'node:crypto';
import { clock } from '../clock.ts';

/** A dead process's claims are due again after this (R20: taken over within a minute). */
export const CLAIM_LEASE_MS = 30_000;
/** How often a live process extends its leases: three chances before one runs out. */
const extendEveryFraction = 3;

export interface Lease {
  /** Written into the claimed rows' claim_token; every later write of the claimant matches it. */
  readonly token: string;
  /** The lease's end as first claimed (the claim query writes it into next_attempt_at). */
  readonly firstUntil: Date;
  /** The rows claimed under this lease that are still being worked on. */
  hold(ids: readonly string[]): void;
  /** This row is finished (done, failed or given back): its lease is no longer extended. */
  release(id: string): void;
  /**
   * Whether the lease surely is still this process's for at least half its length: work that starts
   * later risks being done twice, so the caller gives the row back instead.
   */
  holds(): boolean;
}

/** Extends the lease of `ids` (still claimed with `token`) to `until`; returns nothing of interest. */
export type ExtendLease = (token: string, until: Date, ids: string[]) => Promise<unknown>;

export async function withLease<T>(leaseMs: number, extend: ExtendLease, fn: (lease: Lease) => Promise<T>): Promise<T> {
  const token = randomUUID();
  let untilMs = clock.wallMs() + leaseMs;
  const held = new Set<string>();
  let extending: Promise<unknown> | null = null;
  const lease: Lease = {
    token,
    firstUntil: new Date(untilMs),
    hold: (ids) => ids.forEach((id) => held.add(id)),
    release: (id) => void held.delete(id),
    holds: () => clock.wallMs() < untilMs - leaseMs / 2,
  };
  const timer = setInterval(() => {
    if (extending || held.size === 0) return;
    const nextUntilMs = clock.wallMs() + leaseMs;
    extending = extend(token, new Date(nextUntilMs), [...held])
      .then(() => {
        // Only a lease the database took counts: if it was unreachable, holds() turns false in time.
        untilMs = nextUntilMs;
      })
      .catch(() => {})
      .finally(() => {
        extending = null;
      });
  }, Math.max(1, Math.floor(leaseMs / extendEveryFraction)));
  timer.unref();
  try {
    return await fn(lease);
  } finally {
    clearInterval(timer);
    await extending;
  }
}
