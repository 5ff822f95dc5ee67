// R10: expiry-alert milestones, with catch-up after missed days.
import { addDays, daysBetween, isBefore, type CalendarDate } from './calendar.ts';

/**
 * The milestone (days before E) whose alert is due today, or null. When the job missed days only
 * the latest milestone reached is sent; once it (or a later one) was sent for this E, nothing.
 */
export function alertMilestoneDue(
  expiresOn: CalendarDate,
  today: CalendarDate,
  milestonesDays: readonly number[],
  sentMilestonesDays: readonly number[],
): number | null {
  if (!isBefore(today, expiresOn)) return null; // on and after E the renewal itself speaks
  const daysLeft = daysBetween(today, expiresOn);
  const reached = milestonesDays.filter((m) => m >= daysLeft);
  if (reached.length === 0) return null;
  const latest = Math.min(...reached);
  if (sentMilestonesDays.some((s) => s <= latest)) return null;
  return latest;
}

/** The first day an alert can be due for E: used to select candidates in SQL. */
export const firstAlertDay = (expiresOn: CalendarDate, milestonesDays: readonly number[]): CalendarDate =>
  addDays(expiresOn, -Math.max(...milestonesDays));
