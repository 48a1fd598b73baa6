// The statistics a comparison metric judges with, as small pure functions: the normal distribution, a
// one-sided two-proportion z-test with Newcombe's score interval for the difference, and the Mann–Whitney U
// test on histogram buckets (ties within a bucket, with the tie-corrected variance).

/** Φ(z), the standard normal distribution function (fractional error below 1.2e-7). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** 1 − Φ(z), computed directly so that small upper tails keep their precision. */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/**
 * Φ⁻¹(p), the standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9).
 * 0 and 1 give −∞ and +∞.
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`a probability is between 0 and 1 (got ${p})`);
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  const poly = (coef: readonly number[], x: number): number => coef.reduce((sum, k) => sum * x + k, 0);
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(c, q) / (poly(d, q) * q + 1);
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -poly(c, q) / (poly(d, q) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (poly(a, r) * q) / (poly(b, r) * r + 1);
}

/** The complementary error function (Numerical Recipes' Chebyshev fit, fractional error below 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Errors among requests, for one revision. */
export interface ProportionSample {
  readonly errors: number;
  readonly requests: number;
}

export interface ProportionTest {
  /** canary rate − stable rate. */
  readonly difference: number;
  /** The pooled two-proportion z statistic; positive when the canary fails more often. */
  readonly z: number;
  /** Which test gave the p-value: the z-test, or Fisher's exact test where z's approximation is poor. */
  readonly method: 'z' | 'fisher';
  /** One-sided: the probability of a difference this large if the canary were no worse. */
  readonly pValue: number;
  /** Newcombe's (hybrid score) upper confidence bound of the difference at 1 − alpha. */
  readonly upperBound: number;
}

/**
 * Is the canary's error rate higher than stable's? A one-sided pooled two-proportion z-test — or, when an
 * expected count of errors or successes in either sample is below 5 (the textbook condition for the normal
 * approximation; 2 errors in 200 against 1 in 1,800 gives p = 0.0005 by z, 0.028 exactly), Fisher's exact
 * test. And an upper confidence bound of the difference by Newcombe's method 10 (from Wilson score
 * intervals), which stays honest at 0 errors where the textbook Wald interval claims certainty.
 */
export function twoProportionTest(
  canary: ProportionSample,
  stable: ProportionSample,
  alpha: number,
): ProportionTest {
  const n1 = canary.requests;
  const n2 = stable.requests;
  if (n1 <= 0 || n2 <= 0) throw new RangeError('both samples need at least one request');
  // Errors count attempts (a retried request can fail twice): a rate is capped at 1.
  const x1 = Math.min(canary.errors, n1);
  const x2 = Math.min(stable.errors, n2);
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const difference = p1 - p2;
  const z = se === 0 ? 0 : difference / se;
  const smallest = Math.min(n1, n2) * Math.min(pooled, 1 - pooled);
  const method = smallest < 5 ? 'fisher' : 'z';
  const pValue = method === 'z' ? normalUpperTail(z) : fisherUpperTail(x1, n1, x1 + x2, n1 + n2);
  const zAlpha = normalQuantile(1 - alpha);
  const [, u1] = wilson(x1, n1, zAlpha);
  const [l2] = wilson(x2, n2, zAlpha);
  const upperBound = difference + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2);
  return { difference, z, method, pValue, upperBound };
}

/**
 * Fisher's exact test, one-sided: P(X ≥ x) for X hypergeometric — `draws` requests of `total`, of which
 * `marked` are errors. Summed from the term nearest the mode outwards (by the ratio of neighbouring terms),
 * over the upper tail when x is above the mean and as 1 − the lower tail otherwise, so the largest term
 * comes first and nothing that matters underflows.
 */
export function fisherUpperTail(x: number, draws: number, marked: number, total: number): number {
  const low = Math.max(0, draws + marked - total);
  const high = Math.min(draws, marked);
  if (x <= low) return 1;
  if (x > high) return 0;
  const pmf = (k: number): number =>
    Math.exp(logChoose(marked, k) + logChoose(total - marked, draws - k) - logChoose(total, draws));
  const rest = total - marked - draws;
  let tail = 0;
  if (x > (draws * marked) / total) {
    let term = pmf(x);
    for (let k = x; k <= high && term >= tail * 1e-17; k++) {
      tail += term;
      term *= ((marked - k) * (draws - k)) / ((k + 1) * (rest + k + 1));
    }
    return Math.min(1, tail);
  }
  let term = pmf(x - 1);
  for (let k = x - 1; k >= low && term >= tail * 1e-17; k--) {
    tail += term;
    term *= (k * (rest + k)) / ((marked - k + 1) * (draws - k + 1));
  }
  return Math.max(0, 1 - tail);
}

function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

/** ln n!: exact sums below 20, Stirling's series (error below 1e-12) above. */
export function logFactorial(n: number): number {
  if (n < 20) {
    let sum = 0;
    for (let i = 2; i <= n; i++) sum += Math.log(i);
    return sum;
  }
  const inv = 1 / n;
  const inv2 = inv * inv;
  return (
    n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260))
  );
}

/** The Wilson score interval of x successes in n at the normal quantile z. */
export function wilson(x: number, n: number, z: number): [number, number] {
  const p = x / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export interface RankTest {
  /** U of the canary: pairs (canary, stable) where the canary was slower, ties counting ½. */
  readonly u: number;
  /** U / (n₁n₂): the chance a canary request is slower than a stable one (ties ½); 0.5 is no difference. */
  readonly probabilityWorse: number;
  /** Standardised U with the continuity correction; positive when the canary is slower; 0 when all tie. */
  readonly z: number;
  /** One-sided: the probability of a U this large if the canary were no slower. */
  readonly pValue: number;
  /** The upper confidence bound of probabilityWorse at 1 − alpha (normal approximation, null variance). */
  readonly upperBound: number;
}

/**
 * The Mann–Whitney U test on two histograms over the same buckets (counts per bucket, not cumulative):
 * every request in a bucket ties with the others there. The variance is the tie-corrected one,
 * n₁n₂/12 · [(N+1) − Σ(t³−t)/(N(N−1))] with t the count of both samples in a bucket.
 */
export function mannWhitneyBuckets(
  canary: readonly number[],
  stable: readonly number[],
  alpha: number,
): RankTest {
  if (canary.length !== stable.length) throw new RangeError('the histograms must have the same buckets');
  const n1 = sum(canary);
  const n2 = sum(stable);
  if (n1 <= 0 || n2 <= 0) throw new RangeError('both samples need at least one request');
  const total = n1 + n2;
  let u = 0;
  let stableBelow = 0;
  let ties = 0;
  for (let index = 0; index < canary.length; index++) {
    const c = canary[index] ?? 0;
    const s = stable[index] ?? 0;
    u += c * (stableBelow + s / 2);
    stableBelow += s;
    const t = c + s;
    ties += t * t * t - t;
  }
  const pairs = n1 * n2;
  const mean = pairs / 2;
  const variance = total > 1 ? (pairs / 12) * (total + 1 - ties / (total * (total - 1))) : 0;
  const sd = Math.sqrt(Math.max(0, variance));
  // The continuity correction for an upper-tail test: P(U ≥ u) ≈ P(Z ≥ (u − ½ − mean) / sd).
  const z = sd === 0 ? 0 : (u - mean - 0.5) / sd;
  const probabilityWorse = u / pairs;
  const upperBound = Math.min(1, probabilityWorse + (normalQuantile(1 - alpha) * sd) / pairs);
  return { u, probabilityWorse, z, pValue: normalUpperTail(z), upperBound };
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
