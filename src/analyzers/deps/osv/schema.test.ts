// The lenient OSV schema: what passes, what is skipped and why, and ecosystem normalisation.
import { describe, expect, it } from 'vitest';
import { eventOf, normaliseEcosystem, parseOsvDocument, parseOsvJson } from './schema.js';

const minimal = { id: 'GHSA-aaaa-bbbb-cccc', modified: '2024-01-01T00:00:00Z' };

describe('parseOsvDocument', () => {
  it('accepts a full document and keeps unknown fields', () => {
    const doc = {
      schema_version: '1.6.0',
      ...minimal,
      published: '2023-12-01T00:00:00Z',
      aliases: ['CVE-2024-0001'],
      related: ['GHSA-xxxx-yyyy-zzzz'],
      summary: 'summary',
      details: 'details',
      severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
      affected: [
        {
          package: { ecosystem: 'npm', name: 'left-pad', purl: 'pkg:npm/left-pad' },
          ranges: [
            {
              type: 'SEMVER',
              events: [{ introduced: '0' }, { fixed: '1.3.0' }],
              database_specific: { x: 1 },
            },
            { type: 'GIT', repo: 'https://github.com/x/y', events: [{ introduced: '0' }, { limit: 'abc' }] },
          ],
          versions: ['1.0.0'],
          ecosystem_specific: { imports: [] },
          database_specific: { source: 'x' },
        },
      ],
      references: [{ type: 'WEB', url: 'https://example.com' }],
      credits: [{ name: 'someone' }],
      database_specific: { severity: 'HIGH', github_reviewed: true },
      x_vendor_field: { kept: true },
    };
    const result = parseOsvDocument(doc);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.vuln).toEqual(doc);
  });

  it('treats JSON null as absent', () => {
    const result = parseOsvDocument({
      ...minimal,
      aliases: null,
      affected: [{ package: { ecosystem: 'PyPI', name: 'x' }, versions: null }],
    });
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.vuln.aliases).toBeUndefined();
  });

  it.each([
    [[], 'not a JSON object'],
    ['text', 'not a JSON object'],
    [null, 'not a JSON object'],
    [{ modified: '2024-01-01T00:00:00Z' }, 'id: '],
    [{ id: '', modified: '2024-01-01T00:00:00Z' }, 'id: '],
    [{ id: 'X-1' }, 'modified: '],
    [{ ...minimal, aliases: 'CVE-1' }, 'aliases: '],
    [{ ...minimal, affected: [{ package: { ecosystem: 'npm' } }] }, 'affected[].package.name: '],
    [
      { ...minimal, affected: [{ ranges: [{ type: 'SEMVER', events: [{ introduced: '1', fixed: '2' }] }] }] },
      'affected[].ranges[].events[]: an event has exactly one of introduced, fixed, last_affected, limit',
    ],
    [
      { ...minimal, affected: [{ ranges: [{ type: 'SEMVER', events: [{}] }] }] },
      'affected[].ranges[].events[]: ',
    ],
    [{ ...minimal, affected: [{ ranges: [{ events: [] }] }] }, 'affected[].ranges[].type: '],
    [{ ...minimal, severity: [{ type: 'CVSS_V3' }] }, 'severity[].score: '],
  ])('skips %j with a reason starting %j', (value, reason) => {
    const result = parseOsvDocument(value);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason.startsWith(reason)).toBe(true);
  });

  it('folds array indices so that reasons aggregate', () => {
    const a = parseOsvDocument({
      ...minimal,
      affected: [{}, { ranges: [{ type: 'X', events: [{ fixed: 1 }] }] }],
    });
    const b = parseOsvDocument({
      ...minimal,
      affected: [{ ranges: [{ type: 'X', events: [{ introduced: '0' }, { fixed: 2 }] }] }],
    });
    expect(a.ok || b.ok).toBe(false);
    if (!a.ok && !b.ok) {
      expect(a.reason).toBe(b.reason);
      expect(a.reason).toBe(
        'affected[].ranges[].events[].fixed: Invalid input: expected string, received number',
      );
    }
  });
});

describe('parseOsvJson', () => {
  it('parses text and reports invalid JSON', () => {
    expect(parseOsvJson(JSON.stringify(minimal)).ok).toBe(true);
    expect(parseOsvJson('{"id": ')).toEqual({ ok: false, reason: 'not valid JSON' });
  });
});

describe('eventOf', () => {
  it('names the kind and version of an event', () => {
    expect(eventOf({ introduced: '0' })).toEqual({ kind: 'introduced', version: '0' });
    expect(eventOf({ last_affected: '1.2' })).toEqual({ kind: 'last_affected', version: '1.2' });
    expect(() => eventOf({})).toThrow();
  });
});

describe('normaliseEcosystem', () => {
  it.each([
    ['PyPI', 'PyPI'],
    ['pypi', 'PyPI'],
    ['Debian:11', 'Debian'],
    ['Ubuntu:22.04:LTS', 'Ubuntu'],
    ['Alpine:v3.18', 'Alpine'],
    ['Maven:https://maven.google.com', 'Maven'],
    ['crates.io', 'crates.io'],
    ['Go', 'Go'],
    ['GitHub Actions', 'GitHub Actions'],
  ])('%s → %s', (raw, base) => {
    expect(normaliseEcosystem(raw)).toBe(base);
  });
});
