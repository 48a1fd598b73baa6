// Scores a secret scanner's findings against the labelled corpus (labels.yaml). Pure and scanner-agnostic:
// the Plumbline corpus test and the benchmark (which scores other scanners on the same files) share it.
//
// A label and a finding meet at a (file, line): the line a secret starts on. A label with at least one
// finding at its (file, line) is a true positive, whatever rule found it; a label without one is a false
// negative; each other (file, line) with a finding is one false positive, however many rules fired there.

export const SECRET_KINDS = ['provider', 'generic'] as const;
/**
 * `provider`: a credential in a format its issuer defines (prefixed tokens, AWS keys, PEM private keys,
 * JWTs, URLs with a password); `generic`: a password, secret or key whose only signal is the name it is
 * assigned to.
 */
export type SecretKind = (typeof SECRET_KINDS)[number];

export interface Label {
  /** Path relative to the corpus `files/` directory, with forward slashes. */
  readonly file: string;
  /** 1-based line the secret starts on. */
  readonly line: number;
  readonly kind: SecretKind;
  /** The rule id expected to find it (informational: any rule finding it is a true positive). */
  readonly rule?: string;
  readonly note?: string;
}

export interface ScoredFinding {
  readonly file: string;
  readonly line: number;
  readonly rule: string;
  /** What the rule looks for, when the scanner says: attributes false positives to a kind. */
  readonly kind?: SecretKind;
}

export interface Counts {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  /** tp / (tp + fp); 1 when nothing was reported. */
  readonly precision: number;
  /** tp / (tp + fn); 1 when nothing was labelled. */
  readonly recall: number;
  readonly f1: number;
}

export interface TruePositive {
  readonly label: Label;
  /** The rules that reported something at the label's line. */
  readonly rules: readonly string[];
  /** Whether the expected rule was among them; undefined when the label names no rule. */
  readonly ruleMatched: boolean | undefined;
}

export interface FalsePositive {
  readonly file: string;
  readonly line: number;
  readonly rules: readonly string[];
  /** The kind of the first finding at that line that has one. */
  readonly kind: SecretKind | undefined;
}

export interface Score extends Counts {
  readonly byKind: Readonly<Record<SecretKind, Counts>>;
  readonly truePositives: readonly TruePositive[];
  readonly falsePositives: readonly FalsePositive[];
  readonly falseNegatives: readonly Label[];
}

const key = (file: string, line: number): string => `${file}:${line}`;

export function counts(tp: number, fp: number, fn: number): Counts {
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { tp, fp, fn, precision, recall, f1 };
}

export function score(labels: readonly Label[], findings: readonly ScoredFinding[]): Score {
  const labelled = new Map<string, Label>();
  for (const label of labels) {
    const k = key(label.file, label.line);
    if (labelled.has(k)) throw new Error(`two labels at ${k}: label one secret per line`);
    labelled.set(k, label);
  }
  const byLine = new Map<string, ScoredFinding[]>();
  for (const finding of findings) {
    const k = key(finding.file, finding.line);
    const list = byLine.get(k);
    if (list === undefined) byLine.set(k, [finding]);
    else list.push(finding);
  }

  const truePositives: TruePositive[] = [];
  const falseNegatives: Label[] = [];
  for (const [k, label] of labelled) {
    const found = byLine.get(k);
    if (found === undefined) {
      falseNegatives.push(label);
      continue;
    }
    const rules = [...new Set(found.map((f) => f.rule))];
    truePositives.push({
      label,
      rules,
      ruleMatched: label.rule === undefined ? undefined : rules.includes(label.rule),
    });
  }
  const falsePositives: FalsePositive[] = [];
  for (const [k, found] of byLine) {
    if (labelled.has(k)) continue;
    const first = found[0] as ScoredFinding;
    falsePositives.push({
      file: first.file,
      line: first.line,
      rules: [...new Set(found.map((f) => f.rule))],
      kind: found.find((f) => f.kind !== undefined)?.kind,
    });
  }
  const byFileLine = (a: { file: string; line: number }, b: { file: string; line: number }): number =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line;
  falsePositives.sort(byFileLine);
  falseNegatives.sort(byFileLine);
  truePositives.sort((a, b) => byFileLine(a.label, b.label));

  const byKind = {} as Record<SecretKind, Counts>;
  for (const kind of SECRET_KINDS) {
    byKind[kind] = counts(
      truePositives.filter((t) => t.label.kind === kind).length,
      falsePositives.filter((f) => f.kind === kind).length,
      falseNegatives.filter((l) => l.kind === kind).length,
    );
  }
  return {
    ...counts(truePositives.length, falsePositives.length, falseNegatives.length),
    byKind,
    truePositives,
    falsePositives,
    falseNegatives,
  };
}

/** Validates the parsed labels.yaml (`secrets:` is the ground truth). */
export function parseLabels(doc: unknown): Label[] {
  const list = (doc as { secrets?: unknown } | null)?.secrets;
  if (!Array.isArray(list)) throw new Error('labels.yaml: expected a `secrets:` list');
  return list.map((entry: unknown, i): Label => {
    const e = entry as Partial<Record<keyof Label, unknown>>;
    const where = `labels.yaml secrets[${i}]`;
    if (typeof e.file !== 'string' || e.file.length === 0) throw new Error(`${where}: file`);
    if (typeof e.line !== 'number' || !Number.isInteger(e.line) || e.line < 1)
      throw new Error(`${where}: line`);
    if (e.kind !== 'provider' && e.kind !== 'generic') throw new Error(`${where}: kind`);
    if (e.rule !== undefined && typeof e.rule !== 'string') throw new Error(`${where}: rule`);
    if (e.note !== undefined && typeof e.note !== 'string') throw new Error(`${where}: note`);
    return {
      file: e.file,
      line: e.line,
      kind: e.kind,
      ...(e.rule === undefined ? {} : { rule: e.rule }),
      ...(e.note === undefined ? {} : { note: e.note }),
    };
  });
}
