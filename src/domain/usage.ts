// R11: usage warnings at 80 % and 95 % of total inbox space, one per threshold crossing.

/** A threshold already warned about, with the total space at that time. */
export interface WarnedThreshold {
  thresholdPercent: number;
  totalBytes: number;
}

export interface UsageDecision {
  /** The threshold to write to the holder about now (the highest crossed), or null. */
  warnAtPercent: number | null;
  /** Thresholds to record as warned (all crossed, at the current total). */
  markWarned: number[];
  /** Thresholds to re-arm: usage fell back under them, or space grew since the warning. */
  rearm: number[];
}

export const isAtOrOver = (usedBytes: number, totalBytes: number, percent: number): boolean =>
  totalBytes > 0 && usedBytes * 100 >= totalBytes * percent;

export function evaluateUsage(
  usedBytes: number,
  totalBytes: number,
  thresholdsPercent: readonly number[],
  warned: readonly WarnedThreshold[],
): UsageDecision {
  const rearm: number[] = [];
  const markWarned: number[] = [];
  for (const p of thresholdsPercent) {
    const over = isAtOrOver(usedBytes, totalBytes, p);
    const prior = warned.find((w) => w.thresholdPercent === p);
    const armed = !prior || !over || totalBytes > prior.totalBytes;
    if (prior && armed) rearm.push(p);
    if (over && armed) markWarned.push(p);
  }
  const warnAtPercent = markWarned.length ? Math.max(...markWarned) : null;
  return { warnAtPercent, markWarned, rearm };
}
