// The statistics against textbook and reference values: the normal table, Newcombe's (1998) worked
// examples of the score interval for a difference of proportions, and Mann–Whitney U with ties as SciPy's
// mannwhitneyu(alternative='greater', method='asymptotic', use_continuity=True) computes it.
import { describe, expect, it } from 'vitest';
import {
  fisherUpperTail,
  logFactorial,
  mannWhitneyBuckets,
  normalCdf,
  normalQuantile,
  normalUpperTail,
  twoProportionTest,
  wilson,
} from './stats.js';

describe('the normal distribution', () => {
  it.each([
    [1.96, 0.9750021048517795],
    [-1.645, 0.049984905539121376],
    [0, 0.5],
  ])('Φ(%d) = %d', (z, p) => {
    expect(normalCdf(z)).toBeCloseTo(p, 6);
  });

  it('keeps small upper tails precise', () => {
    expect(normalUpperTail(3.5) / 0.00023262907903552502).toBeCloseTo(1, 5);
    expect(normalUpperTail(-10)).toBeCloseTo(1, 12);
  });

  it.each([
    [0.975, 1.959963984540054],
    [0.95, 1.6448536269514722],
    [0.001, -3.090232306167813],
    [0.99999, 4.264890793923841],
    [0.5, 0],
  ])('Φ⁻¹(%d) = %d', (p, z) => {
    expect(normalQuantile(p)).toBeCloseTo(z, 7);
  });

  it('gives infinities at 0 and 1 and refuses what is not a probability', () => {
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(() => normalQuantile(1.5)).toThrow(RangeError);
    expect(() => normalQuantile(Number.NaN)).toThrow(RangeError);
  });
});

describe('twoProportionTest', () => {
  it('computes the pooled z statistic and its one-sided p-value (30/200 against 20/200)', () => {
    // p̂ = 50/400 = 0.125; SE = √(0.125·0.875·(1/200+1/200)) = 0.0330719; z = 0.05 / SE = 1.51186.
    const test = twoProportionTest({ errors: 30, requests: 200 }, { errors: 20, requests: 200 }, 0.05);
    expect(test.method).toBe('z');
    expect(test.difference).toBeCloseTo(0.05, 12);
    expect(test.z).toBeCloseTo(1.5118578920369083, 9);
    expect(test.pValue).toBeCloseTo(0.06528500905786819, 6);
  });

  it.each([
    // Newcombe (1998), Statistics in Medicine 17:873–890, method 10, 95% two-sided: the upper limit.
    [56, 70, 48, 80, 0.3339],
    [9, 10, 3, 10, 0.809],
    [5, 56, 0, 29, 0.1926],
  ])('gives the Newcombe upper limit for %d/%d − %d/%d', (x1, n1, x2, n2, upper) => {
    const test = twoProportionTest({ errors: x1, requests: n1 }, { errors: x2, requests: n2 }, 0.025);
    expect(test.upperBound).toBeCloseTo(upper, 4);
  });

  it('stays honest at zero errors, where a Wald interval would claim certainty', () => {
    const test = twoProportionTest({ errors: 0, requests: 50 }, { errors: 0, requests: 50 }, 0.05);
    expect(test.z).toBe(0);
    expect(test.method).toBe('fisher');
    expect(test.pValue).toBe(1);
    // The Wilson upper limit of 0/50 at z = 1.645: z²/(n+z²) = 0.0513.
    expect(test.upperBound).toBeCloseTo(0.0513, 4);
  });

  it('uses the exact test where z would call a few errors significant (2/200 against 1/1,800)', () => {
    // By z: 3.274, p = 0.00053; Fisher's exact one-sided p (SciPy fisher_exact, 'greater') = 0.027892.
    const test = twoProportionTest({ errors: 2, requests: 200 }, { errors: 1, requests: 1800 }, 0.05);
    expect(test.z).toBeCloseTo(3.274108027963014, 9);
    expect(test.method).toBe('fisher');
    expect(test.pValue).toBeCloseTo(0.027891873864860358, 9);
  });

  it('caps error counts at the requests (a retried request can fail twice)', () => {
    const test = twoProportionTest({ errors: 12, requests: 10 }, { errors: 0, requests: 10 }, 0.05);
    expect(test.difference).toBe(1);
  });

  it('refuses empty samples', () => {
    expect(() => twoProportionTest({ errors: 0, requests: 0 }, { errors: 0, requests: 5 }, 0.05)).toThrow(
      RangeError,
    );
  });

  it('matches the Wilson interval of a textbook case (81/263 at 95%)', () => {
    // Agresti & Coull's example: 0.2553 to 0.3662.
    const [low, high] = wilson(81, 263, 1.959963984540054);
    expect(low).toBeCloseTo(0.2553, 4);
    expect(high).toBeCloseTo(0.3662, 4);
  });
});

describe('fisherUpperTail', () => {
  it.each([
    // Fisher's lady tasting tea, [[3,1],[1,3]]: 17/70.
    [3, 4, 4, 8, 0.24285714285714283],
    // SciPy fisher_exact(..., alternative='greater') for [[2,198],[1,1799]], [[30000,970000],[1,9]], [[1,9],[30000,970000]].
    [2, 200, 3, 2000, 0.027891873864860358],
    [30000, 1000000, 30001, 1000010, 0.9654927356066763],
    [1, 10, 30001, 1000010, 0.26258222094504124],
  ])('P(X ≥ %d | draws %d, marked %d, total %d) = %d', (x, draws, marked, total, p) => {
    expect(fisherUpperTail(x, draws, marked, total)).toBeCloseTo(p, 9);
  });

  it('is 1 at or below the least possible count and 0 above the most', () => {
    expect(fisherUpperTail(0, 10, 5, 20)).toBe(1);
    expect(fisherUpperTail(6, 10, 5, 20)).toBe(0);
  });

  it('has exact log-factorials (ln 100! and ln 1,000,000!)', () => {
    expect(logFactorial(100)).toBeCloseTo(363.73937555556347, 9);
    expect(logFactorial(1e6)).toBeCloseTo(12815518.384658169, 6);
    expect(logFactorial(20)).toBeCloseTo(42.335616460753485, 10);
    expect(logFactorial(0)).toBe(0);
  });
});

describe('mannWhitneyBuckets', () => {
  it('matches SciPy on bucketed (tied) data', () => {
    // canary = repeat(0..5, [2,5,8,3,1,0]), stable = repeat(0..5, [6,9,4,1,0,0]):
    // U = 273, tie-corrected variance 1159.615, z = 2.42269, p = 0.0077031.
    const test = mannWhitneyBuckets([2, 5, 8, 3, 1, 0], [6, 9, 4, 1, 0, 0], 0.05);
    expect(test.u).toBe(273);
    expect(test.probabilityWorse).toBeCloseTo(0.718421052631579, 12);
    expect(test.z).toBeCloseTo(2.422685077568817, 9);
    expect(test.pValue).toBeCloseTo(0.0077031379108858265, 6);
    expect(test.upperBound).toBeCloseTo(
      0.718421052631579 + (1.6448536269514722 * 34.053125915477786) / 380,
      6,
    );
  });

  it('finds no difference between equal samples (SciPy: p = 0.50577)', () => {
    const test = mannWhitneyBuckets([6, 9, 4, 1, 0, 0], [6, 9, 4, 1, 0, 0], 0.05);
    expect(test.probabilityWorse).toBe(0.5);
    expect(test.pValue).toBeCloseTo(0.5057703781028733, 6);
  });

  it('treats everything in one bucket as ties: no evidence either way', () => {
    const test = mannWhitneyBuckets([0, 40, 0], [0, 70, 0], 0.05);
    expect(test.z).toBe(0);
    expect(test.pValue).toBeCloseTo(0.5, 6);
    expect(test.upperBound).toBe(0.5);
  });

  it('refuses histograms of different shapes or without requests', () => {
    expect(() => mannWhitneyBuckets([1, 2], [1, 2, 3], 0.05)).toThrow(RangeError);
    expect(() => mannWhitneyBuckets([0, 0], [1, 2], 0.05)).toThrow(RangeError);
  });
});
