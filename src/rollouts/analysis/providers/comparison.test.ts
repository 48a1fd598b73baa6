// A comparison's verdicts, from counts: what is significant fails, what is shown no worse succeeds, and
// nothing is declared on too little data.
import { describe, expect, it } from 'vitest';
import type { WindowCounts } from '../window.js';
import { judge, summarise } from './comparison.js';

const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

function counts(requests: number, errors: number, buckets?: number[]): WindowCounts {
  return { requests, errors, buckets: buckets ?? [requests, 0, 0, 0, 0, 0, 0, 0] };
}

const errorRate = { metric: 'error-rate' as const, minSamples: 50, margin: 0.02 };
const latency = { metric: 'latency' as const, minSamples: 50, margin: 0.1 };

describe('comparison: error rate', () => {
  it('fails a canary that fails far more often', () => {
    const observation = judge(errorRate, 0.05 / 6, false, counts(100, 100), counts(900, 0), BOUNDS);
    expect(observation).toMatchObject({ kind: 'verdict', phase: 'Failed' });
    expect(observation.kind === 'verdict' ? observation.message : '').toMatch(
      /^the canary fails more often: error rate 100.00% vs 0.00%, p = /,
    );
  });

  it('does not fail noise: 2 errors in 200 against 1 in 1,800 is not significant at 0.05/6', () => {
    // Fisher's exact p = 0.028 > 0.0083 (the z-test's 0.0005 would have failed this canary).
    const observation = judge(errorRate, 0.05 / 6, false, counts(200, 2), counts(1800, 1), BOUNDS);
    expect(observation).toMatchObject({ kind: 'verdict', phase: 'Undecided' });
    expect(
      observation.kind === 'verdict' ? (observation.value as { pValue: number }).pValue : 0,
    ).toBeGreaterThan(0.0083);
  });

  it('passes a canary shown no worse within the margin', () => {
    const observation = judge(errorRate, 0.05 / 6, true, counts(2000, 2), counts(18000, 20), BOUNDS);
    expect(observation).toMatchObject({ kind: 'verdict', phase: 'Successful' });
  });

  it('waits for minSamples, then is Inconclusive at the last look', () => {
    expect(judge(errorRate, 0.01, false, counts(20, 20), counts(900, 0), BOUNDS)).toMatchObject({
      phase: 'Undecided',
      message: 'not enough requests yet (canary 20 requests, stable 900; 50 each needed)',
    });
    expect(judge(errorRate, 0.01, true, counts(20, 0), counts(900, 0), BOUNDS)).toMatchObject({
      phase: 'Inconclusive',
    });
    // Enough to look, not enough to claim 2 points: Wilson's bound for 0/60 is above it.
    expect(judge(errorRate, 0.01, true, counts(60, 0), counts(600, 0), BOUNDS)).toMatchObject({
      phase: 'Inconclusive',
    });
  });

  it('has no data when a revision had no request, but only says so at the last look', () => {
    expect(judge(errorRate, 0.01, false, counts(0, 0), counts(900, 0), BOUNDS)).toMatchObject({
      kind: 'verdict',
      phase: 'Undecided',
    });
    expect(judge(errorRate, 0.01, true, counts(0, 0), counts(900, 0), BOUNDS)).toEqual({
      kind: 'noData',
      message: 'the canary had no requests since the analysis began',
    });
    expect(judge(errorRate, 0.01, true, counts(10, 0), counts(0, 0), BOUNDS)).toEqual({
      kind: 'noData',
      message: 'the stable revision had no requests since the analysis began',
    });
  });
});

describe('comparison: latency', () => {
  const fast = [200, 300, 100, 0, 0, 0, 0, 0];
  it('fails a slower canary', () => {
    const slow = [0, 10, 60, 100, 30, 0, 0, 0];
    const observation = judge(latency, 0.01, false, counts(200, 0, slow), counts(600, 0, fast), BOUNDS);
    expect(observation).toMatchObject({ kind: 'verdict', phase: 'Failed' });
    expect(observation.kind === 'verdict' ? observation.message : '').toMatch(/^the canary is slower: p50 /);
  });

  it('passes one that is as fast, and is not fooled by a faster one', () => {
    const same = [100, 150, 50, 0, 0, 0, 0, 0];
    expect(judge(latency, 0.01, true, counts(300, 0, same), counts(600, 0, fast), BOUNDS)).toMatchObject({
      phase: 'Successful',
    });
    const faster = [300, 0, 0, 0, 0, 0, 0, 0];
    expect(judge(latency, 0.01, true, counts(300, 0, faster), counts(600, 0, fast), BOUNDS)).toMatchObject({
      phase: 'Successful',
    });
  });

  it('cannot tell with a small sample and a slight shift', () => {
    const slight = [14, 24, 12, 0, 0, 0, 0, 0];
    expect(
      judge(latency, 0.01, false, counts(50, 0, slight), counts(50, 0, [20, 20, 10, 0, 0, 0, 0, 0]), BOUNDS),
    ).toMatchObject({ phase: 'Undecided' });
  });
});

describe('summarise', () => {
  it('gives rates and percentiles, null without requests', () => {
    expect(summarise(counts(0, 0), BOUNDS)).toEqual({
      requests: 0,
      errors: 0,
      errorRate: null,
      p50: null,
      p90: null,
      p95: null,
      p99: null,
    });
    const summary = summarise(counts(10, 2, [0, 10, 0, 0, 0, 0, 0, 0]), BOUNDS);
    expect(summary.errorRate).toBe(0.2);
    expect(summary.p50).toBeCloseTo(0.00175, 12);
  });
});
