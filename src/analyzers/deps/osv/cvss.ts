// CVSS scores computed from vectors (v3.0/v3.1 formulas, v4.0 MacroVector method) and the severity of an OSV document.
import type { OsvSeverity, OsvVuln } from './schema.js';

export type SeverityLevel = 'critical' | 'high' | 'medium' | 'low' | 'info';

export interface SeverityResult {
  readonly severity: SeverityLevel;
  /** The CVSS score, when the severity comes from a vector. */
  readonly score?: number;
  readonly source: 'cvss_v4' | 'cvss_v3' | 'database' | 'none';
  /** The vector the score was computed from. */
  readonly vector?: string;
}

/** The qualitative rating of a CVSS score: 9.0–10 critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low, 0 info. */
export function ratingOf(score: number): SeverityLevel {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score > 0) return 'low';
  return 'info';
}

/** `CVSS:x.y/K:V/K:V…` → metric map; undefined on a repeated metric, an empty part or the wrong prefix. */
function parseVector(vector: string, prefixes: readonly string[]): Map<string, string> | undefined {
  const parts = vector.trim().split('/');
  const head = parts.shift();
  if (head === undefined || !prefixes.includes(head)) return undefined;
  const metrics = new Map<string, string>();
  for (const part of parts) {
    const colon = part.indexOf(':');
    if (colon <= 0 || colon === part.length - 1) return undefined;
    const key = part.slice(0, colon);
    if (metrics.has(key)) return undefined;
    metrics.set(key, part.slice(colon + 1));
  }
  return metrics;
}

function validates(
  metrics: Map<string, string>,
  allowed: Record<string, readonly string[]>,
  required: readonly string[],
): boolean {
  for (const [key, value] of metrics) {
    const values = allowed[key];
    if (values === undefined || !values.includes(value)) return false;
  }
  return required.every((key) => metrics.has(key));
}

// ---------------------------------------------------------------------------------------------------------
// CVSS v3.0 / v3.1 (FIRST specification, section 7: base metric equations; Appendix A: Roundup)

const V3_BASE = ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'] as const;
const V3_ALLOWED: Record<string, readonly string[]> = {
  AV: ['N', 'A', 'L', 'P'],
  AC: ['L', 'H'],
  PR: ['N', 'L', 'H'],
  UI: ['N', 'R'],
  S: ['U', 'C'],
  C: ['H', 'L', 'N'],
  I: ['H', 'L', 'N'],
  A: ['H', 'L', 'N'],
  // Temporal and environmental metrics are accepted and do not change the base score.
  E: ['X', 'U', 'P', 'F', 'H'],
  RL: ['X', 'O', 'T', 'W', 'U'],
  RC: ['X', 'U', 'R', 'C'],
  CR: ['X', 'L', 'M', 'H'],
  IR: ['X', 'L', 'M', 'H'],
  AR: ['X', 'L', 'M', 'H'],
  MAV: ['X', 'N', 'A', 'L', 'P'],
  MAC: ['X', 'L', 'H'],
  MPR: ['X', 'N', 'L', 'H'],
  MUI: ['X', 'N', 'R'],
  MS: ['X', 'U', 'C'],
  MC: ['X', 'H', 'L', 'N'],
  MI: ['X', 'H', 'L', 'N'],
  MA: ['X', 'H', 'L', 'N'],
};

/**
 * The specification's Roundup (v3.1 Appendix A): the smallest number with one decimal that is ≥ the input,
 * computed on integers so that 4.000000000000001 does not become 4.1. Used for v3.0 too (its intent).
 */
export function roundUp(value: number): number {
  const int = Math.round(value * 100000);
  if (int % 10000 === 0) return int / 100000;
  return (Math.floor(int / 10000) + 1) / 10;
}

/** The CVSS v3.0/v3.1 base score of a vector, or undefined when the vector is not valid. */
export function cvss3BaseScore(vector: string): number | undefined {
  const m = parseVector(vector, ['CVSS:3.0', 'CVSS:3.1']);
  if (m === undefined || !validates(m, V3_ALLOWED, V3_BASE)) return undefined;
  const changed = m.get('S') === 'C';
  const av = { N: 0.85, A: 0.62, L: 0.55, P: 0.2 }[m.get('AV') as 'N'];
  const ac = { L: 0.77, H: 0.44 }[m.get('AC') as 'L'];
  const pr = (changed ? { N: 0.85, L: 0.68, H: 0.5 } : { N: 0.85, L: 0.62, H: 0.27 })[m.get('PR') as 'N'];
  const ui = { N: 0.85, R: 0.62 }[m.get('UI') as 'N'];
  const cia = { H: 0.56, L: 0.22, N: 0 };
  const c = cia[m.get('C') as 'H'];
  const i = cia[m.get('I') as 'H'];
  const a = cia[m.get('A') as 'H'];
  const iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 : 6.42 * iss;
  const exploitability = 8.22 * av * ac * pr * ui;
  if (impact <= 0) return 0;
  return changed
    ? roundUp(Math.min(1.08 * (impact + exploitability), 10))
    : roundUp(Math.min(impact + exploitability, 10));
}

// ---------------------------------------------------------------------------------------------------------
// CVSS v4.0 (FIRST specification, section 8: MacroVectors EQ1–EQ6, their expert-ranked scores, and the
// interpolation by severity distance inside a MacroVector)

const V4_BASE = ['AV', 'AC', 'AT', 'PR', 'UI', 'VC', 'VI', 'VA', 'SC', 'SI', 'SA'] as const;
const V4_ALLOWED: Record<string, readonly string[]> = {
  AV: ['N', 'A', 'L', 'P'],
  AC: ['L', 'H'],
  AT: ['N', 'P'],
  PR: ['N', 'L', 'H'],
  UI: ['N', 'P', 'A'],
  VC: ['H', 'L', 'N'],
  VI: ['H', 'L', 'N'],
  VA: ['H', 'L', 'N'],
  SC: ['H', 'L', 'N'],
  SI: ['H', 'L', 'N'],
  SA: ['H', 'L', 'N'],
  E: ['X', 'A', 'P', 'U'],
  CR: ['X', 'H', 'M', 'L'],
  IR: ['X', 'H', 'M', 'L'],
  AR: ['X', 'H', 'M', 'L'],
  MAV: ['X', 'N', 'A', 'L', 'P'],
  MAC: ['X', 'L', 'H'],
  MAT: ['X', 'N', 'P'],
  MPR: ['X', 'N', 'L', 'H'],
  MUI: ['X', 'N', 'P', 'A'],
  MVC: ['X', 'H', 'L', 'N'],
  MVI: ['X', 'H', 'L', 'N'],
  MVA: ['X', 'H', 'L', 'N'],
  MSC: ['X', 'H', 'L', 'N'],
  MSI: ['X', 'S', 'H', 'L', 'N'],
  MSA: ['X', 'S', 'H', 'L', 'N'],
  // Supplemental metrics: informative, never part of the score.
  S: ['X', 'N', 'P'],
  AU: ['X', 'N', 'Y'],
  R: ['X', 'A', 'U', 'I'],
  V: ['X', 'D', 'C'],
  RE: ['X', 'L', 'M', 'H'],
  U: ['X', 'Clear', 'Green', 'Amber', 'Red'],
};

/**
 * Scores of the 270 MacroVectors (EQ1…EQ6 digits), from the FIRST CVSS v4.0 calculator's lookup table
 * (data, © FIRST, Red Hat and contributors, BSD-2-Clause).
 */
const MACROVECTOR_SCORES: Readonly<Record<string, number>> = {
  '000000': 10,
  '000001': 9.9,
  '000010': 9.8,
  '000011': 9.5,
  '000020': 9.5,
  '000021': 9.2,
  '000100': 10,
  '000101': 9.6,
  '000110': 9.3,
  '000111': 8.7,
  '000120': 9.1,
  '000121': 8.1,
  '000200': 9.3,
  '000201': 9,
  '000210': 8.9,
  '000211': 8,
  '000220': 8.1,
  '000221': 6.8,
  '001000': 9.8,
  '001001': 9.5,
  '001010': 9.5,
  '001011': 9.2,
  '001020': 9,
  '001021': 8.4,
  '001100': 9.3,
  '001101': 9.2,
  '001110': 8.9,
  '001111': 8.1,
  '001120': 8.1,
  '001121': 6.5,
  '001200': 8.8,
  '001201': 8,
  '001210': 7.8,
  '001211': 7,
  '001220': 6.9,
  '001221': 4.8,
  '002001': 9.2,
  '002011': 8.2,
  '002021': 7.2,
  '002101': 7.9,
  '002111': 6.9,
  '002121': 5,
  '002201': 6.9,
  '002211': 5.5,
  '002221': 2.7,
  '010000': 9.9,
  '010001': 9.7,
  '010010': 9.5,
  '010011': 9.2,
  '010020': 9.2,
  '010021': 8.5,
  '010100': 9.5,
  '010101': 9.1,
  '010110': 9,
  '010111': 8.3,
  '010120': 8.4,
  '010121': 7.1,
  '010200': 9.2,
  '010201': 8.1,
  '010210': 8.2,
  '010211': 7.1,
  '010220': 7.2,
  '010221': 5.3,
  '011000': 9.5,
  '011001': 9.3,
  '011010': 9.2,
  '011011': 8.5,
  '011020': 8.5,
  '011021': 7.3,
  '011100': 9.2,
  '011101': 8.2,
  '011110': 8,
  '011111': 7.2,
  '011120': 7,
  '011121': 5.9,
  '011200': 8.4,
  '011201': 7,
  '011210': 7.1,
  '011211': 5.2,
  '011220': 5,
  '011221': 3,
  '012001': 8.6,
  '012011': 7.5,
  '012021': 5.2,
  '012101': 7.1,
  '012111': 5.2,
  '012121': 2.9,
  '012201': 6.3,
  '012211': 2.9,
  '012221': 1.7,
  '100000': 9.8,
  '100001': 9.5,
  '100010': 9.4,
  '100011': 8.7,
  '100020': 9.1,
  '100021': 8.1,
  '100100': 9.4,
  '100101': 8.9,
  '100110': 8.6,
  '100111': 7.4,
  '100120': 7.7,
  '100121': 6.4,
  '100200': 8.7,
  '100201': 7.5,
  '100210': 7.4,
  '100211': 6.3,
  '100220': 6.3,
  '100221': 4.9,
  '101000': 9.4,
  '101001': 8.9,
  '101010': 8.8,
  '101011': 7.7,
  '101020': 7.6,
  '101021': 6.7,
  '101100': 8.6,
  '101101': 7.6,
  '101110': 7.4,
  '101111': 5.8,
  '101120': 5.9,
  '101121': 5,
  '101200': 7.2,
  '101201': 5.7,
  '101210': 5.7,
  '101211': 5.2,
  '101220': 5.2,
  '101221': 2.5,
  '102001': 8.3,
  '102011': 7,
  '102021': 5.4,
  '102101': 6.5,
  '102111': 5.8,
  '102121': 2.6,
  '102201': 5.3,
  '102211': 2.1,
  '102221': 1.3,
  '110000': 9.5,
  '110001': 9,
  '110010': 8.8,
  '110011': 7.6,
  '110020': 7.6,
  '110021': 7,
  '110100': 9,
  '110101': 7.7,
  '110110': 7.5,
  '110111': 6.2,
  '110120': 6.1,
  '110121': 5.3,
  '110200': 7.7,
  '110201': 6.6,
  '110210': 6.8,
  '110211': 5.9,
  '110220': 5.2,
  '110221': 3,
  '111000': 8.9,
  '111001': 7.8,
  '111010': 7.6,
  '111011': 6.7,
  '111020': 6.2,
  '111021': 5.8,
  '111100': 7.4,
  '111101': 5.9,
  '111110': 5.7,
  '111111': 5.7,
  '111120': 4.7,
  '111121': 2.3,
  '111200': 6.1,
  '111201': 5.2,
  '111210': 5.7,
  '111211': 2.9,
  '111220': 2.4,
  '111221': 1.6,
  '112001': 7.1,
  '112011': 5.9,
  '112021': 3,
  '112101': 5.8,
  '112111': 2.6,
  '112121': 1.5,
  '112201': 2.3,
  '112211': 1.3,
  '112221': 0.6,
  '200000': 9.3,
  '200001': 8.7,
  '200010': 8.6,
  '200011': 7.2,
  '200020': 7.5,
  '200021': 5.8,
  '200100': 8.6,
  '200101': 7.4,
  '200110': 7.4,
  '200111': 6.1,
  '200120': 5.6,
  '200121': 3.4,
  '200200': 7,
  '200201': 5.4,
  '200210': 5.2,
  '200211': 4,
  '200220': 4,
  '200221': 2.2,
  '201000': 8.5,
  '201001': 7.5,
  '201010': 7.4,
  '201011': 5.5,
  '201020': 6.2,
  '201021': 5.1,
  '201100': 7.2,
  '201101': 5.7,
  '201110': 5.5,
  '201111': 4.1,
  '201120': 4.6,
  '201121': 1.9,
  '201200': 5.3,
  '201201': 3.6,
  '201210': 3.4,
  '201211': 1.9,
  '201220': 1.9,
  '201221': 0.8,
  '202001': 6.4,
  '202011': 5.1,
  '202021': 2,
  '202101': 4.7,
  '202111': 2.1,
  '202121': 1.1,
  '202201': 2.4,
  '202211': 0.9,
  '202221': 0.4,
  '210000': 8.8,
  '210001': 7.5,
  '210010': 7.3,
  '210011': 5.3,
  '210020': 6,
  '210021': 5,
  '210100': 7.3,
  '210101': 5.5,
  '210110': 5.9,
  '210111': 4,
  '210120': 4.1,
  '210121': 2,
  '210200': 5.4,
  '210201': 4.3,
  '210210': 4.5,
  '210211': 2.2,
  '210220': 2,
  '210221': 1.1,
  '211000': 7.5,
  '211001': 5.5,
  '211010': 5.8,
  '211011': 4.5,
  '211020': 4,
  '211021': 2.1,
  '211100': 6.1,
  '211101': 5.1,
  '211110': 4.8,
  '211111': 1.8,
  '211120': 2,
  '211121': 0.9,
  '211200': 4.6,
  '211201': 1.8,
  '211210': 1.7,
  '211211': 0.7,
  '211220': 0.8,
  '211221': 0.2,
  '212001': 5.3,
  '212011': 2.4,
  '212021': 1.4,
  '212101': 2.4,
  '212111': 1.2,
  '212121': 0.5,
  '212201': 1,
  '212211': 0.3,
  '212221': 0.1,
};

/**
 * The highest-severity vectors of each EQ level (a MacroVector's score is the score of these), as partial
 * metric maps; EQ3 and EQ6 are joint (indexed by EQ3 then EQ6).
 */
type Partial4 = Readonly<Record<string, string>>;
function parts(text: string): Partial4 {
  return Object.fromEntries(text.split('/').map((kv) => kv.split(':') as [string, string]));
}
const EQ1_MAX: Readonly<Record<number, readonly Partial4[]>> = {
  0: ['AV:N/PR:N/UI:N'].map(parts),
  1: ['AV:A/PR:N/UI:N', 'AV:N/PR:L/UI:N', 'AV:N/PR:N/UI:P'].map(parts),
  2: ['AV:P/PR:N/UI:N', 'AV:A/PR:L/UI:P'].map(parts),
};
const EQ2_MAX: Readonly<Record<number, readonly Partial4[]>> = {
  0: ['AC:L/AT:N'].map(parts),
  1: ['AC:H/AT:N', 'AC:L/AT:P'].map(parts),
};
const EQ3EQ6_MAX: Readonly<Record<string, readonly Partial4[]>> = {
  '00': ['VC:H/VI:H/VA:H/CR:H/IR:H/AR:H'].map(parts),
  '01': ['VC:H/VI:H/VA:L/CR:M/IR:M/AR:H', 'VC:H/VI:H/VA:H/CR:M/IR:M/AR:M'].map(parts),
  '10': ['VC:L/VI:H/VA:H/CR:H/IR:H/AR:H', 'VC:H/VI:L/VA:H/CR:H/IR:H/AR:H'].map(parts),
  '11': [
    'VC:L/VI:H/VA:L/CR:H/IR:M/AR:H',
    'VC:L/VI:H/VA:H/CR:H/IR:M/AR:M',
    'VC:H/VI:L/VA:H/CR:M/IR:H/AR:M',
    'VC:H/VI:L/VA:L/CR:M/IR:H/AR:H',
    'VC:L/VI:L/VA:H/CR:H/IR:H/AR:M',
  ].map(parts),
  '21': ['VC:L/VI:L/VA:L/CR:H/IR:H/AR:H'].map(parts),
};
const EQ4_MAX: Readonly<Record<number, readonly Partial4[]>> = {
  0: ['SC:H/SI:S/SA:S'].map(parts),
  1: ['SC:H/SI:H/SA:H'].map(parts),
  2: ['SC:L/SI:L/SA:L'].map(parts),
};
const EQ5_MAX: Readonly<Record<number, readonly Partial4[]>> = {
  0: ['E:A'].map(parts),
  1: ['E:P'].map(parts),
  2: ['E:U'].map(parts),
};

/** The depth of each MacroVector in severity-distance steps (of 0.1), per EQ level. */
const EQ1_DEPTH = [1, 4, 5];
const EQ2_DEPTH = [1, 2];
const EQ3EQ6_DEPTH: Readonly<Record<string, number>> = { '00': 7, '01': 6, '10': 8, '11': 8, '21': 10 };
const EQ4_DEPTH = [6, 5, 4];

/** Severity levels of metric values (0 is the most severe), in steps of 0.1 as the specification counts. */
const LEVELS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  AV: { N: 0, A: 0.1, L: 0.2, P: 0.3 },
  PR: { N: 0, L: 0.1, H: 0.2 },
  UI: { N: 0, P: 0.1, A: 0.2 },
  AC: { L: 0, H: 0.1 },
  AT: { N: 0, P: 0.1 },
  VC: { H: 0, L: 0.1, N: 0.2 },
  VI: { H: 0, L: 0.1, N: 0.2 },
  VA: { H: 0, L: 0.1, N: 0.2 },
  SC: { H: 0.1, L: 0.2, N: 0.3 },
  SI: { S: 0, H: 0.1, L: 0.2, N: 0.3 },
  SA: { S: 0, H: 0.1, L: 0.2, N: 0.3 },
  CR: { H: 0, M: 0.1, L: 0.2 },
  IR: { H: 0, M: 0.1, L: 0.2 },
  AR: { H: 0, M: 0.1, L: 0.2 },
};
const DISTANCE_METRICS = [
  'AV',
  'PR',
  'UI',
  'AC',
  'AT',
  'VC',
  'VI',
  'VA',
  'SC',
  'SI',
  'SA',
  'CR',
  'IR',
  'AR',
] as const;

/**
 * The effective value of a metric: a defined modified metric (`MAV`…) overrides the base one; `E:X` counts as
 * `A` and `CR/IR/AR:X` as `H` (the worst case), as the specification says for absent threat/environmental metrics.
 */
function effective(m: Map<string, string>, metric: string): string {
  const value = m.get(metric) ?? 'X';
  if (metric === 'E') return value === 'X' ? 'A' : value;
  if (metric === 'CR' || metric === 'IR' || metric === 'AR') return value === 'X' ? 'H' : value;
  const modified = m.get(`M${metric}`);
  if (modified !== undefined && modified !== 'X') return modified;
  return value;
}

function macroVector(m: Map<string, string>): [number, number, number, number, number, number] {
  function v(metric: string): string {
    return effective(m, metric);
  }
  const av = v('AV');
  const pr = v('PR');
  const ui = v('UI');
  const eq1 =
    av === 'N' && pr === 'N' && ui === 'N'
      ? 0
      : (av === 'N' || pr === 'N' || ui === 'N') && av !== 'P'
        ? 1
        : 2;
  const eq2 = v('AC') === 'L' && v('AT') === 'N' ? 0 : 1;
  const vc = v('VC');
  const vi = v('VI');
  const va = v('VA');
  const eq3 = vc === 'H' && vi === 'H' ? 0 : vc === 'H' || vi === 'H' || va === 'H' ? 1 : 2;
  // Subsequent-system Safety exists only as a modified metric (MSI:S, MSA:S).
  const eq4 =
    m.get('MSI') === 'S' || m.get('MSA') === 'S'
      ? 0
      : v('SC') === 'H' || v('SI') === 'H' || v('SA') === 'H'
        ? 1
        : 2;
  const e = v('E');
  const eq5 = e === 'A' ? 0 : e === 'P' ? 1 : 2;
  const eq6 =
    (v('CR') === 'H' && vc === 'H') || (v('IR') === 'H' && vi === 'H') || (v('AR') === 'H' && va === 'H')
      ? 0
      : 1;
  return [eq1, eq2, eq3, eq4, eq5, eq6];
}

/**
 * Rounds to one decimal, half up. The interpolation runs in binary floating point, so an exact `x.x5` can land
 * one ulp below (8.6 − 7.2 = 1.3999999999999995): the reference calculator lifts the value by 1e-6 before
 * rounding (its 2024-11 fix), and so does this, so that ties round up as the specification intends.
 */
function roundV4(value: number): number {
  return Math.round((value + 1e-6) * 10) / 10;
}

/**
 * The CVSS v4.0 score of a vector, or undefined when the vector is not valid. Threat and environmental
 * metrics present in the vector are applied (the score the vector denotes: CVSS-B for a base vector, else
 * CVSS-BT/BE/BTE); supplemental metrics never change it.
 */
export function cvss4Score(vector: string): number | undefined {
  const m = parseVector(vector, ['CVSS:4.0']);
  if (m === undefined || !validates(m, V4_ALLOWED, V4_BASE)) return undefined;
  const impacts = ['VC', 'VI', 'VA', 'SC', 'SI', 'SA'];
  if (impacts.every((metric) => effective(m, metric) === 'N')) return 0;

  const [eq1, eq2, eq3, eq4, eq5, eq6] = macroVector(m);
  function key(a: number, b: number, c: number, d: number, e: number, f: number): string {
    return `${a}${b}${c}${d}${e}${f}`;
  }
  const macroScore = MACROVECTOR_SCORES[key(eq1, eq2, eq3, eq4, eq5, eq6)];
  if (macroScore === undefined) return undefined;
  const value: number = macroScore;

  // 1a. The maximal scoring difference per EQ: to the next lower MacroVector (absent → not counted).
  function lower(k: string): number | undefined {
    return MACROVECTOR_SCORES[k];
  }
  const lowerEq1 = lower(key(eq1 + 1, eq2, eq3, eq4, eq5, eq6));
  const lowerEq2 = lower(key(eq1, eq2 + 1, eq3, eq4, eq5, eq6));
  let lowerEq3Eq6: number | undefined;
  if (eq3 === 0 && eq6 === 0) {
    // Two ways down (00 → 01, 00 → 10): the higher score.
    const left = lower(key(eq1, eq2, eq3, eq4, eq5, eq6 + 1));
    const right = lower(key(eq1, eq2, eq3 + 1, eq4, eq5, eq6));
    lowerEq3Eq6 = left === undefined ? right : right === undefined ? left : Math.max(left, right);
  } else if (eq3 === 1 && eq6 === 0) {
    lowerEq3Eq6 = lower(key(eq1, eq2, eq3, eq4, eq5, eq6 + 1));
  } else if (eq3 === 2) {
    lowerEq3Eq6 = undefined;
  } else {
    lowerEq3Eq6 = lower(key(eq1, eq2, eq3 + 1, eq4, eq5, eq6));
  }
  const lowerEq4 = lower(key(eq1, eq2, eq3, eq4 + 1, eq5, eq6));
  const lowerEq5 = lower(key(eq1, eq2, eq3, eq4, eq5 + 1, eq6));

  // 1b. The severity distance from the first highest-severity vector of the MacroVector that is not less severe.
  const maxima: Partial4[] = [];
  for (const a of EQ1_MAX[eq1] ?? [])
    for (const b of EQ2_MAX[eq2] ?? [])
      for (const c of EQ3EQ6_MAX[`${eq3}${eq6}`] ?? [])
        for (const d of EQ4_MAX[eq4] ?? [])
          for (const e of EQ5_MAX[eq5] ?? []) maxima.push({ ...a, ...b, ...c, ...d, ...e });
  let distance: Record<string, number> = {};
  for (const max of maxima) {
    distance = {};
    let ok = true;
    for (const metric of DISTANCE_METRICS) {
      const levels = LEVELS[metric] ?? {};
      const d = (levels[effective(m, metric)] ?? 0) - (levels[max[metric] ?? ''] ?? 0);
      distance[metric] = d;
      if (d < 0) ok = false;
    }
    if (ok) break;
  }
  function sum(...metrics: string[]): number {
    return metrics.reduce((s, k) => s + (distance[k] ?? 0), 0);
  }
  const current = {
    eq1: sum('AV', 'PR', 'UI'),
    eq2: sum('AC', 'AT'),
    eq3eq6: sum('VC', 'VI', 'VA', 'CR', 'IR', 'AR'),
    eq4: sum('SC', 'SI', 'SA'),
  };

  // 1c–d. Proportion of the distance within the MacroVector's depth, times the available score difference.
  const step = 0.1;
  let total = 0;
  let counted = 0;
  function add(lowerScore: number | undefined, currentDistance: number, depth: number): void {
    if (lowerScore === undefined) return;
    counted += 1;
    total += (value - lowerScore) * (currentDistance / (depth * step));
  }
  add(lowerEq1, current.eq1, EQ1_DEPTH[eq1] ?? 1);
  add(lowerEq2, current.eq2, EQ2_DEPTH[eq2] ?? 1);
  add(lowerEq3Eq6, current.eq3eq6, EQ3EQ6_DEPTH[`${eq3}${eq6}`] ?? 1);
  add(lowerEq4, current.eq4, EQ4_DEPTH[eq4] ?? 1);
  // EQ5 has a depth of one vector: its proportion is always 0, but an existing lower MacroVector still counts.
  add(lowerEq5, 0, 1);

  // 2–3. The MacroVector's score minus the mean proportional distance, within [0, 10], one decimal.
  const score = value - (counted === 0 ? 0 : total / counted);
  return roundV4(Math.min(10, Math.max(0, score)));
}

/** The version and score of a CVSS vector of any supported version (3.0, 3.1, 4.0); undefined when invalid. */
export function cvssScore(vector: string): { version: '3.0' | '3.1' | '4.0'; score: number } | undefined {
  const v = vector.trim();
  if (v.startsWith('CVSS:4.0/')) {
    const score = cvss4Score(v);
    return score === undefined ? undefined : { version: '4.0', score };
  }
  if (v.startsWith('CVSS:3.0/') || v.startsWith('CVSS:3.1/')) {
    const score = cvss3BaseScore(v);
    return score === undefined ? undefined : { version: v.startsWith('CVSS:3.0/') ? '3.0' : '3.1', score };
  }
  return undefined;
}

const DATABASE_LEVELS: Readonly<Record<string, SeverityLevel>> = {
  critical: 'critical',
  high: 'high',
  important: 'high',
  moderate: 'medium',
  medium: 'medium',
  low: 'low',
  negligible: 'info',
  unimportant: 'info',
  informational: 'info',
  info: 'info',
  none: 'info',
};

function databaseLevel(value: unknown): SeverityLevel | undefined {
  return typeof value === 'string' ? DATABASE_LEVELS[value.trim().toLowerCase()] : undefined;
}

/**
 * The severity of a document. (1) The highest-version CVSS vector present wins — v4 over v3 — looking at the
 * document's `severity` and its `affected[].severity`; among vectors of the same version the highest score
 * wins; invalid vectors are ignored (CVSS v2 is not scored). (2) Else a database rating:
 * `database_specific.severity` (GHSA `CRITICAL/HIGH/MODERATE/LOW`), then `affected[].ecosystem_specific.severity`
 * and `affected[].database_specific.severity`, then an `Ubuntu` priority; the highest of those. (3) Else
 * `medium` with source `none`: an advisory without a rating is still a known vulnerability, so it must not
 * vanish under a `high` gate threshold, nor pretend to be critical.
 */
export function severityOf(vuln: OsvVuln): SeverityResult {
  const entries: OsvSeverity[] = [...(vuln.severity ?? [])];
  for (const a of vuln.affected ?? []) entries.push(...(a.severity ?? []));

  let best: { version: number; score: number; vector: string } | undefined;
  for (const entry of entries) {
    if (entry.type !== 'CVSS_V3' && entry.type !== 'CVSS_V4') continue;
    const scored = cvssScore(entry.score);
    if (scored === undefined) continue;
    const version = scored.version === '4.0' ? 4 : 3;
    if (
      best === undefined ||
      version > best.version ||
      (version === best.version && scored.score > best.score)
    ) {
      best = { version, score: scored.score, vector: entry.score.trim() };
    }
  }
  if (best !== undefined) {
    return {
      severity: ratingOf(best.score),
      score: best.score,
      source: best.version === 4 ? 'cvss_v4' : 'cvss_v3',
      vector: best.vector,
    };
  }

  const order: readonly SeverityLevel[] = ['info', 'low', 'medium', 'high', 'critical'];
  const ratings: SeverityLevel[] = [];
  function push(level: SeverityLevel | undefined): void {
    if (level !== undefined) ratings.push(level);
  }
  push(databaseLevel(vuln.database_specific?.severity));
  for (const a of vuln.affected ?? []) {
    push(databaseLevel(a.ecosystem_specific?.severity));
    push(databaseLevel(a.database_specific?.severity));
  }
  for (const entry of entries) if (entry.type === 'Ubuntu') push(databaseLevel(entry.score));
  if (ratings.length > 0) {
    const highest = ratings.reduce((a, b) => (order.indexOf(b) > order.indexOf(a) ? b : a));
    return { severity: highest, source: 'database' };
  }
  return { severity: 'medium', source: 'none' };
}
