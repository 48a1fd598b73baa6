// The entry model: validation with the field named, one canonical leaf per entry, and the fast leaf assembly
// `verify` uses held equal to the canonical serialiser for every shape of entry.
import { describe, expect, it } from 'vitest';
import type { AuditEntriesTable } from '../store/db.js';
import {
  type AuditEntryInput,
  buildEntry,
  entryFromLeaf,
  entryFromRow,
  entryRow,
  LIMITS,
  leafText,
  leafTextFromColumns,
} from './entry.js';
import { hashLeaf } from './merkle.js';

const NOW = () => new Date('2026-03-01T10:00:00.000Z');
const base: AuditEntryInput = { actor: { kind: 'ci', id: 'github-actions#77' }, action: 'check.passed' };

describe('buildEntry', () => {
  it('normalises times and drops absent fields', () => {
    const entry = buildEntry({ ...base, at: '2026-02-01T12:00:00+01:00', subject: { app: 'web' } }, 7, NOW);
    expect(entry).toEqual({
      id: 7,
      at: '2026-02-01T11:00:00.000Z',
      actor: { kind: 'ci', id: 'github-actions#77' },
      action: 'check.passed',
      subject: { app: 'web' },
      evidence: [],
    });
    expect(buildEntry(base, 0, NOW).at).toBe('2026-03-01T10:00:00.000Z');
    expect(buildEntry({ ...base, at: new Date(0) }, 0).at).toBe('1970-01-01T00:00:00.000Z');
  });

  it.each([
    ['no actor', { action: 'x' }, /actor: is required/],
    [
      'an unknown actor kind',
      { ...base, actor: { kind: 'robot', id: 'r' } },
      /actor.kind: "robot" is not one of person, token, controller, ci/,
    ],
    ['an empty actor id', { ...base, actor: { kind: 'ci', id: '' } }, /actor.id: must not be empty/],
    [
      'a long actor id',
      { ...base, actor: { kind: 'ci', id: 'x'.repeat(LIMITS.text + 1) } },
      /actor.id: is 1001 characters/,
    ],
    ['a bad action', { ...base, action: 'Sync Succeeded' }, /action: "Sync Succeeded" is not a dotted/],
    [
      'a non-string subject field',
      { ...base, subject: { app: 5 } },
      /subject.app: must be a string, not number/,
    ],
    [
      'a bad digest',
      { ...base, evidence: [{ kind: 'report', digest: 'md5' }] },
      /evidence\[0\].digest: "md5" is not alg:hex/,
    ],
    [
      'an evidence ref without kind',
      { ...base, evidence: [{ digest: `sha256:${'0'.repeat(64)}` }] },
      /evidence\[0\].kind: is required/,
    ],
    [
      'too much evidence',
      {
        ...base,
        evidence: Array.from({ length: 101 }, () => ({ kind: 'k', digest: `sha256:${'0'.repeat(64)}` })),
      },
      /at most 100/,
    ],
    ['a date that is not one', { ...base, at: 'soon' }, /at: "soon" is not a date/],
    ['a non-object', null, /entry: must be an object/],
    [
      'a lone surrogate in a string',
      { ...base, reason: 'bad \ud800' },
      /reason: holds an unpaired UTF-16 surrogate/,
    ],
  ])('refuses %s', (_name, input, message) => {
    expect(() => buildEntry(input as unknown as AuditEntryInput, 0, NOW)).toThrow(message);
  });

  it('refuses an entry whose leaf would exceed the size limit', () => {
    const entry = buildEntry({ ...base, after: { blob: 'x'.repeat(LIMITS.leafBytes) } }, 0, NOW);
    expect(() => leafText(entry)).toThrow(/bytes as canonical JSON; at most/);
  });
});

const SHAPES: AuditEntryInput[] = [
  base,
  {
    actor: { kind: 'person', id: 'Zoë "Z" O\'Brien <zoe@example.com>' },
    action: 'rollout.promoted',
    subject: { environment: 'prod', app: 'api', revision: 'r1', commit: 'c'.repeat(40) },
    before: { weights: [90, 10], note: 'ünïcode ✓ 😀', nested: { b: null, a: true } },
    after: 0,
    reason: 'line one\nline two\t"quoted" \\ backslash',
    evidence: [
      { kind: 'approval', digest: `sha256:${'1'.repeat(64)}`, uri: 'https://example.com/pr/1#approve' },
      { kind: 'check-report', digest: `sha512:${'2'.repeat(128)}` },
    ],
  },
  { ...base, before: null, after: [], subject: { revision: '\u2028' } },
  { ...base, actor: { kind: 'token', id: 'token:ci' }, after: { '': 1, é: 2, e: 3 }, reason: '' },
];

describe('the leaf', () => {
  it.each(SHAPES.map((shape, i) => [i, shape] as const))(
    'of shape %i: columns assemble into the canonical leaf',
    (_i, input) => {
      const entry = buildEntry(input, 12345, NOW);
      const row = entryRow(entry);
      expect(leafTextFromColumns(row)).toBe(row.canonical);
      expect(row.canonical).toBe(leafText(entry));
      expect(row.leaf_hash).toBe(hashLeaf(Buffer.from(row.canonical, 'utf8')).toString('hex'));
      expect(entryFromRow(row)).toEqual(entry);
      expect(entryFromLeaf(row.canonical)).toEqual({ ok: true, entry });
    },
  );

  it('differs when any field differs (the id included)', () => {
    const entry = buildEntry(SHAPES[1] as AuditEntryInput, 5, NOW);
    const texts = new Set([
      leafText(entry),
      leafText({ ...entry, id: 6 }),
      leafText({ ...entry, reason: 'other' }),
      leafText({ ...entry, subject: { ...entry.subject, app: 'web' } }),
      leafText({ ...entry, actor: { kind: 'ci', id: entry.actor.id } }),
      leafText({ ...entry, at: '2026-03-01T10:00:00.001Z' }),
    ]);
    expect(texts.size).toBe(6);
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['an array', '[]', /not a JSON object/],
    ['another version', '{"v":2}', /version 2/],
    ['no id', '{"v":1}', /no integer id/],
    ['a bad time', '{"id":1,"v":1,"at":"today"}', /no ISO 8601 time/],
    [
      'an invalid entry',
      '{"action":"x","actor":{"id":"a","kind":"robot"},"at":"2026-01-01T00:00:00.000Z","evidence":[],"id":1,"subject":{},"v":1}',
      /actor.kind/,
    ],
    [
      'a non-canonical form',
      '{"action":"x","actor":{"id":"a","kind":"ci"},"at":"2026-01-01T00:00:00.000Z","evidence":[],"id":1,"subject":{},"v":1,"extra":1}',
      /not in canonical form/,
    ],
  ])('is refused when %s', (_name, text, reason) => {
    const result = entryFromLeaf(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('assembles what the columns say even when they were edited (so verify sees the difference)', () => {
    const row: AuditEntriesTable = entryRow(buildEntry(base, 1, NOW));
    expect(leafTextFromColumns({ ...row, action: 'check.failed' })).not.toBe(row.canonical);
    expect(leafTextFromColumns({ ...row, after_json: '{ }' })).toContain('"after":{ }');
  });
});
