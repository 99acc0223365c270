import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addPeriods, periodEnd, periodStart, type Period } from '../../server/domain/billing-dates';

const at = (iso: string) => Date.parse(iso);
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const MONTH: Period = { length: 1, unit: 'month' };
const YEAR: Period = { length: 1, unit: 'year' };

describe('billing dates: renewals on the same day of the next period, on the UTC calendar', () => {
  test('31 January + 1 month is 3 March, or 2 March in a leap year (the overflow days roll into March)', () => {
    assert.equal(day(addPeriods(at('2026-01-31T09:30:00Z'), 1, MONTH)), '2026-03-03');
    assert.equal(day(addPeriods(at('2028-01-31T09:30:00Z'), 1, MONTH)), '2028-03-02');
    assert.equal(day(addPeriods(at('2026-01-30T00:00:00Z'), 1, MONTH)), '2026-03-02');
    assert.equal(day(addPeriods(at('2028-01-30T00:00:00Z'), 1, MONTH)), '2028-03-01');
    assert.equal(day(addPeriods(at('2026-01-29T00:00:00Z'), 1, MONTH)), '2026-03-01');
    assert.equal(day(addPeriods(at('2028-01-29T00:00:00Z'), 1, MONTH)), '2028-02-29');
    // The time of day is kept.
    assert.equal(new Date(addPeriods(at('2026-01-31T09:30:15.250Z'), 1, MONTH)).toISOString(), '2026-03-03T09:30:15.250Z');
  });

  test('renewals count from the anchor, so a short month moves no later renewal', () => {
    const anchor = at('2026-01-31T12:00:00Z');
    const renewals = Array.from({ length: 12 }, (_, i) => day(periodEnd(anchor, i + 1, MONTH)));
    assert.deepEqual(renewals, [
      '2026-03-03', '2026-03-31', '2026-05-01', '2026-05-31', '2026-07-01', '2026-07-31',
      '2026-08-31', '2026-10-01', '2026-10-31', '2026-12-01', '2026-12-31', '2027-01-31',
    ]);
    // Periods follow each other without gaps or overlaps.
    for (let n = 1; n <= 12; n++) assert.equal(periodStart(anchor, n + 1, MONTH), periodEnd(anchor, n, MONTH));
    assert.equal(periodStart(anchor, 1, MONTH), anchor);
  });

  test('29 February in a leap year, monthly and yearly', () => {
    assert.equal(day(addPeriods(at('2028-02-29T00:00:00Z'), 1, MONTH)), '2028-03-29');
    assert.equal(day(addPeriods(at('2028-02-29T00:00:00Z'), 12, MONTH)), '2029-03-01');
    assert.equal(day(addPeriods(at('2028-02-29T00:00:00Z'), 1, YEAR)), '2029-03-01');
    assert.equal(day(addPeriods(at('2028-02-29T00:00:00Z'), 3, YEAR)), '2031-03-01');
    assert.equal(day(addPeriods(at('2028-02-29T00:00:00Z'), 4, YEAR)), '2032-02-29');
    assert.equal(day(addPeriods(at('2024-02-29T00:00:00Z'), 1, YEAR)), '2025-03-01');
    // 31 January of a leap year, yearly: the same date every year.
    assert.equal(day(addPeriods(at('2028-01-31T00:00:00Z'), 1, YEAR)), '2029-01-31');
    // 28 February stays 28 February, in leap years too.
    assert.equal(day(addPeriods(at('2027-02-28T00:00:00Z'), 1, YEAR)), '2028-02-28');
  });

  test('December to January crosses into the next year', () => {
    assert.equal(day(addPeriods(at('2026-12-31T23:59:59Z'), 1, MONTH)), '2027-01-31');
    assert.equal(day(addPeriods(at('2026-12-15T00:00:00Z'), 1, MONTH)), '2027-01-15');
    assert.equal(day(addPeriods(at('2026-11-30T00:00:00Z'), 3, MONTH)), '2027-03-02');
    assert.equal(day(addPeriods(at('2026-12-31T00:00:00Z'), 2, MONTH)), '2027-03-03');
    assert.equal(new Date(addPeriods(at('2026-12-31T23:59:59Z'), 1, { length: 1, unit: 'day' })).toISOString(), '2027-01-01T23:59:59.000Z');
  });

  test('longer periods and fixed units: every 3 months, weeks and days', () => {
    const quarter: Period = { length: 3, unit: 'month' };
    assert.deepEqual([1, 2, 3, 4].map((n) => day(periodEnd(at('2026-01-31T00:00:00Z'), n, quarter))), ['2026-05-01', '2026-07-31', '2026-10-31', '2027-01-31']);
    assert.equal(day(addPeriods(at('2026-02-22T00:00:00Z'), 1, { length: 1, unit: 'week' })), '2026-03-01');
    assert.equal(day(addPeriods(at('2028-02-22T00:00:00Z'), 1, { length: 1, unit: 'week' })), '2028-02-29');
    assert.equal(day(addPeriods(at('2026-01-01T00:00:00Z'), 2, { length: 2, unit: 'week' })), '2026-01-29');
    assert.equal(day(addPeriods(at('2026-02-27T00:00:00Z'), 3, { length: 1, unit: 'day' })), '2026-03-02');
    assert.equal(addPeriods(at('2026-02-27T00:00:00Z'), 0, MONTH), at('2026-02-27T00:00:00Z'));
  });

  test('bad input is refused instead of producing a date', () => {
    assert.throws(() => addPeriods(0, -1, MONTH), RangeError);
    assert.throws(() => addPeriods(0, 1.5, MONTH), RangeError);
    assert.throws(() => addPeriods(0, 1, { length: 0, unit: 'month' }), RangeError);
  });
});
