import type { PeriodUnit } from '../../src/protocol';

/** A billing period: `length` `unit`s, e.g. 1 month or 3 months. */
export interface Period {
  length: number;
  unit: PeriodUnit;
}

const DAY_MS = 86_400_000;

/**
 * `anchor` plus `count` periods, on the UTC calendar, keeping the time of day.
 *
 * Days and weeks are fixed lengths. Months and years keep the anchor's day of the month; when
 * that day does not exist in the target month, the days past the month's end roll into the
 * following month — the rule the issue and ARCHITECTURE §5 describe and `Date.UTC` applies:
 * - 31 Jan + 1 month = 3 Mar (2 Mar in a leap year), 30 Jan + 1 month = 2 Mar (1 Mar in a leap year);
 * - 29 Feb 2028 + 1 year = 1 Mar 2029, + 4 years = 29 Feb 2032;
 * - 31 Dec + 1 month = 31 Jan of the next year.
 *
 * Renewal dates are always computed from the subscription's anchor, never from the previous
 * renewal, so one short month does not move every later renewal: a subscription started on
 * 31 Jan 2026 renews on 3 Mar, 31 Mar, 1 May, 31 May, 1 Jul, 31 Jul, 31 Aug…
 */
export function addPeriods(anchor: number, count: number, period: Period): number {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  if (!Number.isSafeInteger(period.length) || period.length < 1) throw new RangeError(`period length must be a positive integer, got ${period.length}`);
  const steps = count * period.length;
  switch (period.unit) {
    case 'day':
      return anchor + steps * DAY_MS;
    case 'week':
      return anchor + steps * 7 * DAY_MS;
    case 'month':
    case 'year': {
      const date = new Date(anchor);
      const months = period.unit === 'year' ? steps * 12 : steps;
      return Date.UTC(
        date.getUTCFullYear(),
        date.getUTCMonth() + months,
        date.getUTCDate(),
        date.getUTCHours(),
        date.getUTCMinutes(),
        date.getUTCSeconds(),
        date.getUTCMilliseconds(),
      );
    }
  }
}

/** The end of paid period `n` (1 is the first paid period; 0 ends at the anchor, i.e. the trial's end). */
export function periodEnd(anchor: number, n: number, period: Period): number {
  return addPeriods(anchor, n, period);
}

/** The start of paid period `n` ≥ 1. */
export function periodStart(anchor: number, n: number, period: Period): number {
  return addPeriods(anchor, n - 1, period);
}

/** `days` whole days after `from`. */
export function addDays(from: number, days: number): number {
  return from + days * DAY_MS;
}
