// The one place that reads the machine's time for business purposes (R2). Everything else asks this
// module, so tests and the test clock (API.md "Test clock") can move time for every rule at once.
import { Temporal } from 'temporal-polyfill';
import { dateInRome, type CalendarDate } from './domain/calendar.ts';

let fixedEpochMs: number | null = null;
/** Tests only: how far the security timers' time is moved from the machine's. */
let wallOffsetMs = 0;

export const clock = {
  nowMs(): number {
    return fixedEpochMs ?? Date.now();
  },
  now(): Date {
    return new Date(this.nowMs());
  },
  /** Today's calendar date in Europe/Rome. */
  today(): CalendarDate {
    return dateInRome(this.nowMs());
  },
  /**
   * The machine's own time, never moved by the test clock: for security timers (session idle
   * timeout, login throttling, webhook signature tolerance), which must not expire or revive when a
   * test moves business time by a year.
   */
  wallMs(): number {
    return Date.now() + wallOffsetMs;
  },
  /**
   * Tests only: moves the time security timers see by this much from the machine's (0 follows the
   * machine again), so a 12-hour session lifetime is testable without waiting 12 hours.
   */
  setWallOffset(ms: number): void {
    wallOffsetMs = ms;
  },
  isFixed(): boolean {
    return fixedEpochMs !== null;
  },
  /** Pins the clock (tests, test clock). Pass null to follow the machine again. */
  set(epochMs: number | null): void {
    fixedEpochMs = epochMs;
  },
  /** Pins the clock at a Rome wall-clock time, e.g. setRome('2026-06-10T09:00'). */
  setRome(isoLocal: string): void {
    fixedEpochMs = Temporal.PlainDateTime.from(isoLocal).toZonedDateTime('Europe/Rome').epochMilliseconds;
  },
};
