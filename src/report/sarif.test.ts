import { readFileSync } from 'node:fs';
import AjvDraft04 from 'ajv-draft-04';
import { describe, expect, it } from 'vitest';
import {
  ALL_FINDINGS,
  cleanReport,
  criticalFinding,
  externalSuppressed,
  HISTORY_COMMIT,
  historyFinding,
  hostileFinding,
  inlineSuppressed,
  lowFinding,
  makeReport,
  mediumFinding,
  unchangedFinding,
} from './fixtures.test-helper.js';
import { directoryUri, relativeUri, ruleName, sarifReporter } from './sarif.js';

// ajv-draft-04 is CommonJS with `exports.default`; under `module: nodenext` the default import is the module.
const Ajv = AjvDraft04.default;

const SCHEMA_URL = new URL(
  '../../node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json',
  import.meta.url,
);

function sarifValidator() {
  // The schema's `language` pattern has a stray `]`, legal only without the `u` flag Ajv uses by default.
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  // ajv-formats is not installed; these are the three formats the SARIF schema uses.
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  ajv.addFormat(
    'uri-reference',
    (value: string) => URL.canParse(value, 'file:///base/') && !/\s/.test(value),
  );
  ajv.addFormat('date-time', (value: string) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value),
  );
  return ajv.compile(JSON.parse(readFileSync(SCHEMA_URL, 'utf8')));
}

interface Region {
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
  snippet?: { text: string };
}

interface Result {
  ruleId: string;
  ruleIndex?: number;
  kind?: string;
  level: string;
  message: { text: string };
  locations: {
    physicalLocation: { artifactLocation: { uri: string; uriBaseId: string }; region?: Region };
  }[];
  partialFingerprints: Record<string, string>;
  baselineState?: string;
  suppressions?: { kind: string; justification: string; status: string; properties?: { expires: string } }[];
  properties?: Record<string, string>;
}

interface Rule {
  id: string;
  name: string;
  shortDescription: { text: string };
  defaultConfiguration: { level: string };
  properties: { tags: string[]; precision: string; 'security-severity': string; cwe?: string[] };
}

interface Log {
  $schema: string;
  version: string;
  runs: {
    tool: { driver: { name: string; version: string; informationUri: string; rules: Rule[] } };
    invocations: {
      executionSuccessful: boolean;
      startTimeUtc?: string;
      endTimeUtc?: string;
      toolExecutionNotifications: { level: string; message: { text: string }; locations: unknown[] }[];
    }[];
    originalUriBaseIds: Record<string, { uri: string }>;
    results: Result[];
  }[];
}

function render(report = makeReport()): Log {
  return JSON.parse(sarifReporter.render(report, { color: false })) as Log;
}

function run(log: Log) {
  const first = log.runs[0];
  if (first === undefined) throw new Error('no run');
  return first;
}

function resultFor(log: Log, fingerprint: string): Result {
  const result = run(log).results.find((entry) => entry.partialFingerprints['plumbline/v1'] === fingerprint);
  if (result === undefined) throw new Error(`no result for ${fingerprint}`);
  return result;
}

describe('sarifReporter', () => {
  const validate = sarifValidator();

  it('validates against the official SARIF 2.1.0 schema', () => {
    const valid = validate(render());
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('is a real validator: a wrong level or a missing message is rejected', () => {
    const log = render();
    const [first] = run(log).results;
    if (first === undefined) throw new Error('no result');
    first.level = 'fatal';
    (first as Partial<Result>).message = undefined;
    expect(validate(JSON.parse(JSON.stringify(log)))).toBe(false);
    const paths = (validate.errors ?? []).map((error) => error.instancePath);
    expect(paths).toContain('/runs/0/results/0/level');
  });

  it('validates for a run with no findings, absences or skipped files', () => {
    const log = render(cleanReport());
    expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
    expect(run(log).results).toEqual([]);
    expect(run(log).tool.driver.rules).toEqual([]);
  });

  it('names the schema, version and driver', () => {
    const log = render();
    expect(log.$schema).toBe('https://json.schemastore.org/sarif-2.1.0.json');
    expect(log.version).toBe('2.1.0');
    expect(log.runs).toHaveLength(1);
    const { driver } = run(log).tool;
    expect(driver.name).toBe('plumbline');
    expect(driver.version).toBe('0.1.0');
    expect(driver.informationUri).toBe('https://github.com/plumbline-dev/plumbline');
  });

  it('has one result per finding plus one per absent baseline entry', () => {
    expect(run(render()).results).toHaveLength(ALL_FINDINGS.length + 2);
  });

  it('points every ruleIndex at the rule with the same id', () => {
    const { results, tool } = run(render());
    for (const result of results) {
      if (result.ruleIndex === undefined) continue;
      expect(tool.driver.rules[result.ruleIndex]?.id).toBe(result.ruleId);
    }
    expect(resultFor(render(), criticalFinding.fingerprint).ruleIndex).toBeTypeOf('number');
  });

  it('lists each rule once, with GitHub security-severity, precision, tags and cwe', () => {
    const { rules } = run(render()).tool.driver;
    expect(new Set(rules.map((rule) => rule.id)).size).toBe(rules.length);
    const pat = rules.find((rule) => rule.id === 'github-pat-classic');
    expect(pat).toMatchObject({
      name: 'GithubPatClassic',
      shortDescription: { text: 'GitHub personal access token (classic)' },
      defaultConfiguration: { level: 'error' },
      properties: { precision: 'high', 'security-severity': '9.5', cwe: ['CWE-798'] },
    });
    expect(pat?.properties.tags).toEqual(
      expect.arrayContaining(['security', 'secrets', 'github', 'token', 'external/cwe/cwe-798']),
    );
    const severityOf = (id: string) => rules.find((rule) => rule.id === id)?.properties['security-severity'];
    expect(severityOf('aws-access-key-id')).toBe('8.0');
    expect(severityOf('generic-password')).toBe('5.5');
    expect(severityOf('jwt')).toBe('3.0');
    expect(rules.find((rule) => rule.id === 'generic-password')?.properties.precision).toBe('low');
  });

  it('maps severities to levels', () => {
    const log = render();
    expect(resultFor(log, criticalFinding.fingerprint).level).toBe('error');
    expect(resultFor(log, hostileFinding.fingerprint).level).toBe('error');
    expect(resultFor(log, mediumFinding.fingerprint).level).toBe('warning');
    expect(resultFor(log, lowFinding.fingerprint).level).toBe('note');
    expect(
      run(render(makeReport({ findings: [{ ...lowFinding, severity: 'info' }] }))).results[0]?.level,
    ).toBe('note');
  });

  it('writes a relative location with region and redacted snippet', () => {
    const result = resultFor(render(), criticalFinding.fingerprint);
    expect(result.locations).toEqual([
      {
        physicalLocation: {
          artifactLocation: { uri: 'src/config/settings.ts', uriBaseId: '%SRCROOT%' },
          region: {
            startLine: 12,
            startColumn: 16,
            endLine: 12,
            endColumn: 56,
            snippet: { text: criticalFinding.snippet },
          },
        },
      },
    ]);
    expect(result.partialFingerprints).toEqual({ 'plumbline/v1': 'fp-github-pat-0001' });
    expect(result.message.text).toBe(criticalFinding.message);
    expect(result.properties).toEqual({ severity: 'critical', confidence: 'high', analyzer: 'secrets' });
  });

  it('percent-encodes paths into URI references and gives the root as a file URI ending in /', () => {
    const log = render();
    expect(
      resultFor(log, hostileFinding.fingerprint).locations[0]?.physicalLocation.artifactLocation.uri,
    ).toBe('deploy/run%7Cme%20%3Cv2%3E.sh');
    expect(run(log).originalUriBaseIds['%SRCROOT%']?.uri).toBe('file:///home/ci/work/acme%20app/');
    expect(directoryUri('/repo/')).toBe('file:///repo/');
    expect(relativeUri('a b/c#d?e%f:g.ts')).toBe('a%20b/c%23d%3Fe%25f%3Ag.ts');
    expect(relativeUri('bad\ud800name')).toBe('bad%EF%BF%BDname');
  });

  it('sets baselineState only when the finding has one', () => {
    const log = render();
    expect(resultFor(log, criticalFinding.fingerprint).baselineState).toBe('new');
    expect(resultFor(log, unchangedFinding.fingerprint).baselineState).toBe('unchanged');
    expect(resultFor(log, mediumFinding.fingerprint)).not.toHaveProperty('baselineState');
  });

  it('turns absent baseline entries into results with only a file location', () => {
    const log = render();
    const absent = resultFor(log, 'fp-absent-0009');
    expect(absent).toMatchObject({
      ruleId: 'aws-access-key-id',
      baselineState: 'absent',
      kind: 'pass',
      level: 'none',
    });
    expect(run(log).tool.driver.rules[absent.ruleIndex ?? -1]?.id).toBe('aws-access-key-id');
    expect(absent.locations).toEqual([
      { physicalLocation: { artifactLocation: { uri: 'src/removed.ts', uriBaseId: '%SRCROOT%' } } },
    ]);
    const unknownRule = resultFor(log, 'fp-absent-0010');
    expect(unknownRule.ruleId).toBe('gitlab-pat');
    expect(unknownRule).not.toHaveProperty('ruleIndex');
    expect(unknownRule.locations[0]?.physicalLocation.artifactLocation.uri).toBe('ci/old%20token.yml');
  });

  it('writes accepted suppressions with kind, justification and expiry', () => {
    const log = render();
    expect(resultFor(log, inlineSuppressed.fingerprint).suppressions).toEqual([
      { kind: 'inSource', justification: 'test workspace webhook, revoked', status: 'accepted' },
    ]);
    expect(resultFor(log, externalSuppressed.fingerprint).suppressions).toEqual([
      {
        kind: 'external',
        justification: 'dev-only key for the local stack',
        status: 'accepted',
        properties: { expires: '2030-01-01' },
      },
    ]);
    expect(resultFor(log, criticalFinding.fingerprint)).not.toHaveProperty('suppressions');
  });

  it('keeps commit, author and date of history findings in properties', () => {
    expect(resultFor(render(), historyFinding.fingerprint).properties).toEqual({
      severity: 'high',
      confidence: 'high',
      analyzer: 'secrets',
      commit: HISTORY_COMMIT,
      author: 'Alice Example <alice@example.com>',
      date: '2024-03-01T10:22:33Z',
    });
  });

  it('reports skipped files as notes on a successful invocation', () => {
    const [invocation] = run(render()).invocations;
    expect(invocation?.executionSuccessful).toBe(true);
    expect(invocation?.startTimeUtc).toBe('2024-05-01T12:00:00.000Z');
    expect(invocation?.endTimeUtc).toBe('2024-05-01T12:00:01.534Z');
    const notes = invocation?.toolExecutionNotifications ?? [];
    expect(notes).toHaveLength(6);
    expect(notes.every((note) => note.level === 'note')).toBe(true);
    expect(notes[4]?.message.text).toBe('Skipped data/dump.sql (too-large): 52 MiB is over the 10 MiB limit');
  });

  it('derives a rule for a finding whose rule has no metadata', () => {
    const log = render(makeReport({ rules: [] }));
    expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
    const result = resultFor(log, lowFinding.fingerprint);
    expect(run(log).tool.driver.rules[result.ruleIndex ?? -1]).toMatchObject({
      id: 'jwt',
      defaultConfiguration: { level: 'note' },
    });
  });

  it('copies no field outside the model into the output', () => {
    const leaky = { ...criticalFinding, fingerprintContent: 'ghp_THE_REAL_SECRET' };
    const text = sarifReporter.render(makeReport({ findings: [leaky] }), { color: false });
    expect(text).not.toContain('THE_REAL_SECRET');
  });

  it('turns rule ids into identifier-like names', () => {
    expect(ruleName('aws-access-key-id')).toBe('AwsAccessKeyId');
    expect(ruleName('gcp.service_account')).toBe('GcpServiceAccount');
  });
});
