// Argo Rollouts' rules as data: how conditions judge a result, and how limits and count decide a metric.
import { describe, expect, it } from 'vitest';
import {
  addToTally,
  assessMetric,
  EMPTY_TALLY,
  judgeComparison,
  judgeConditions,
  judgeNoData,
  type Tally,
  worstPhase,
} from './judge.js';
import type { MeasurementPhase } from './types.js';

describe('judgeConditions', () => {
  it.each([
    [{ successCondition: 'result > 1' }, 2, 'Successful'],
    [{ successCondition: 'result > 1' }, 0, 'Failed'],
    [{ failureCondition: 'result > 1' }, 2, 'Failed'],
    [{ failureCondition: 'result > 1' }, 0, 'Successful'],
    [{ successCondition: 'result > 5', failureCondition: 'result < 1' }, 3, 'Inconclusive'],
    [{ successCondition: 'result > 5', failureCondition: 'result < 1' }, 6, 'Successful'],
    [{ successCondition: 'result > 5', failureCondition: 'result < 1' }, 0, 'Failed'],
    // Both true: the failure wins.
    [{ successCondition: 'result > 0', failureCondition: 'result > 0' }, 1, 'Failed'],
    [{}, 1, 'Successful'],
  ] as const)('%o with result %d is %s', (metric, result, phase) => {
    expect(judgeConditions(metric, { result })).toBe(phase);
  });

  it('lets a condition error through (the measurement becomes an Error)', () => {
    expect(() => judgeConditions({ successCondition: 'result > 1' }, { result: 'x' })).toThrow();
  });
});

describe('judgeComparison', () => {
  const vars = { result: { pValue: 0.5 }, canary: { p99: 0.2 }, stable: { p99: 0.1 } };
  it.each([
    [{}, 'Successful', false, 'Successful'],
    [{}, 'Failed', false, 'Failed'],
    [{}, 'Undecided', false, 'Undecided'],
    [{}, 'Inconclusive', true, 'Inconclusive'],
    [{ failureCondition: 'canary.p99 > stable.p99 * 1.5' }, 'Successful', false, 'Failed'],
    [{ successCondition: 'canary.p99 < 0.15' }, 'Successful', false, 'Undecided'],
    [{ successCondition: 'canary.p99 < 0.15' }, 'Successful', true, 'Inconclusive'],
    [{ successCondition: 'canary.p99 < 0.5' }, 'Successful', true, 'Successful'],
  ] as const)('%o over a %s verdict (last %s) is %s', (metric, verdict, last, phase) => {
    expect(judgeComparison(metric, verdict, last, vars)).toBe(phase);
  });
});

describe('judgeNoData', () => {
  it('is what the policy says', () => {
    expect(judgeNoData('pass')).toBe('Successful');
    expect(judgeNoData('fail')).toBe('Failed');
    expect(judgeNoData('inconclusive')).toBe('Inconclusive');
  });
});

describe('assessMetric', () => {
  const metric = { count: 3, failureLimit: 1, inconclusiveLimit: 0, consecutiveErrorLimit: 2 };
  function tallyOf(...phases: MeasurementPhase[]): Tally {
    return phases.reduce(addToTally, EMPTY_TALLY);
  }

  it.each([
    [[], 'Running'],
    [['Successful'], 'Running'],
    [['Successful', 'Successful', 'Successful'], 'Successful'],
    [['Failed'], 'Running'],
    [['Failed', 'Successful', 'Failed'], 'Failed'],
    [['Failed', 'Successful', 'Successful'], 'Successful'],
    [['Inconclusive'], 'Inconclusive'],
    [['Undecided', 'Undecided'], 'Running'],
    [['Undecided', 'Undecided', 'Successful'], 'Successful'],
    [['Error', 'Error'], 'Running'],
    [['Error', 'Error', 'Error'], 'Error'],
    [['Error', 'Error', 'Successful', 'Error', 'Error'], 'Running'],
    // Errors do not count towards count.
    [['Successful', 'Error', 'Successful'], 'Running'],
    [['Successful', 'Error', 'Successful', 'Successful'], 'Successful'],
  ] as const)('%o → %s', (phases, phase) => {
    expect(assessMetric(metric, tallyOf(...phases))).toBe(phase);
  });

  it('keeps the tally', () => {
    expect(tallyOf('Successful', 'Error', 'Error', 'Failed', 'Inconclusive', 'Undecided')).toEqual({
      count: 4,
      successful: 1,
      failed: 1,
      inconclusive: 1,
      errors: 2,
      consecutiveErrors: 0,
    });
  });
});

describe('worstPhase', () => {
  it.each([
    [['Successful', 'Successful'], 'Successful'],
    [['Successful', 'Inconclusive'], 'Inconclusive'],
    [['Inconclusive', 'Error'], 'Error'],
    [['Error', 'Failed', 'Successful'], 'Failed'],
    [['Stopped', 'Failed'], 'Failed'],
    [['Running'], 'Successful'],
  ] as const)('%o → %s', (phases, phase) => {
    expect(worstPhase(phases)).toBe(phase);
  });
});
