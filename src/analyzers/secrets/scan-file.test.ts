import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileRules } from './engine.js';
import type { SecretRule } from './rule.js';
import { scanFile } from './scan-file.js';

const rule: SecretRule = {
  id: 'test-token',
  description: 'Test token',
  severity: 'high',
  keywords: ['tok_'],
  pattern: 'tok_[a-z0-9]{16}',
  examples: { positive: [], negative: [] },
};
const compiled = compileRules([rule]);

describe('scanFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-scanfile-'));
  const secretLine = 'x = tok_abcdefgh12345678\n';

  it('scans a text file', () => {
    writeFileSync(join(dir, 'a.txt'), secretLine);
    const r = scanFile(join(dir, 'a.txt'), 'a.txt', compiled, 1000);
    expect(r.matches.map((m) => m.ruleId)).toEqual(['test-token']);
    expect(r.bytes).toBe(secretLine.length);
  });

  it('skips binary and oversized files with a reason, without reading them whole', () => {
    writeFileSync(join(dir, 'b.bin'), Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(secretLine)]));
    expect(scanFile(join(dir, 'b.bin'), 'b.bin', compiled, 1000).skipped?.reason).toBe('binary');
    writeFileSync(join(dir, 'big.txt'), secretLine.repeat(100));
    expect(scanFile(join(dir, 'big.txt'), 'big.txt', compiled, 1000).skipped?.reason).toBe('too-large');
  });

  it('does not follow symlinks out of the tree', () => {
    const outside = mkdtempSync(join(tmpdir(), 'pl-outside-'));
    writeFileSync(join(outside, 'secret.txt'), secretLine);
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'link.txt'));
    const r = scanFile(join(dir, 'link.txt'), 'link.txt', compiled, 1000);
    expect(r.matches).toEqual([]);
    expect(r.skipped).toBeUndefined();
  });

  it('reports a path it cannot read as unreadable and goes on', () => {
    mkdirSync(join(dir, 'folder.txt'));
    const r = scanFile(join(dir, 'folder.txt'), 'folder.txt', compiled, 1000);
    expect(r.matches).toEqual([]);
    const missing = scanFile(join(dir, 'missing.txt'), 'missing.txt', compiled, 1000);
    expect(missing.skipped).toBeUndefined();
  });
});
