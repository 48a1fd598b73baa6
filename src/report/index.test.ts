import { describe, expect, it } from 'vitest';
import { makeReport } from './fixtures.test-helper.js';
import { getReporter, REPORTERS } from './index.js';
import type { ReportFormat } from './types.js';

const FORMATS: readonly ReportFormat[] = ['text', 'json', 'sarif', 'markdown', 'junit'];

describe('reporter registry', () => {
  it('has a reporter for every format, named after it', () => {
    expect(Object.keys(REPORTERS).sort()).toEqual([...FORMATS].sort());
    for (const format of FORMATS) expect(REPORTERS[format].name).toBe(format);
  });

  it('looks reporters up by name', () => {
    expect(getReporter('sarif')).toBe(REPORTERS.sarif);
    expect(getReporter('xml')).toBeUndefined();
    expect(getReporter('SARIF')).toBeUndefined();
    expect(getReporter('toString')).toBeUndefined();
    expect(getReporter('__proto__')).toBeUndefined();
  });

  it('renders every format to non-empty text ending in a newline', () => {
    for (const format of FORMATS) {
      const output = REPORTERS[format].render(makeReport(), { color: false });
      expect(output.length).toBeGreaterThan(0);
      expect(output.endsWith('\n')).toBe(true);
    }
  });

  it('puts escape codes only in coloured text output', () => {
    for (const format of FORMATS) {
      const output = REPORTERS[format].render(makeReport(), { color: true });
      expect(output.includes('\x1b')).toBe(format === 'text');
    }
  });
});
