import { describe, expect, it } from 'vitest';
import { redactLine, redactSecret } from './redact.js';

describe('redaction', () => {
  it('shows at most four characters and the length', () => {
    expect(redactSecret('ghp_0123456789abcdefghij0123456789abcdef')).toBe('ghp_…(40 chars)');
    expect(redactSecret('hunter22')).toBe('hu…(8 chars)');
    expect(redactSecret('abc')).toBe('…(3 chars)');
  });

  it('redacts every secret on the line and reports where the focused one stands', () => {
    const line = 'a=SECRETONE12 b=SECRETTWO34';
    const secrets = [
      { span: [2, 13] as const, secret: 'SECRETONE12' },
      { span: [16, 27] as const, secret: 'SECRETTWO34' },
    ];
    const r = redactLine(line, secrets, 1, false);
    expect(r.text).toBe('a=SE…(11 chars) b=SE…(11 chars)');
    expect(r.text.slice(r.span[0], r.span[1])).toBe('SE…(11 chars)');
    expect(redactLine(line, secrets, 0, true).text).toBe(line);
  });

  it('clips long lines around the secret', () => {
    const line = `${'x'.repeat(500)}TOKEN123456789${'y'.repeat(500)}`;
    const r = redactLine(line, [{ span: [500, 514], secret: 'TOKEN123456789' }], 0, false);
    expect(r.text.startsWith('…')).toBe(true);
    expect(r.text.endsWith('…')).toBe(true);
    expect(r.text.length).toBeLessThan(160);
    expect(r.text).not.toContain('TOKEN123456789');
  });
});
