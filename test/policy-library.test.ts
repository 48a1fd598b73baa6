// The starter library in policies/: each of its 20 policies has passing and failing cases, and every case
// holds when run the way users run them, `plumbline policy test policies`.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { plumbline, ROOT } from './helpers/repo.js';

interface Run {
  files: string[];
  results: {
    file: string;
    policy: string;
    resource: string;
    expected: string;
    status: string;
    detail: string;
  }[];
  passed: number;
  failed: number;
  unsupported: number;
}

describe('the starter policy library', () => {
  let status = -1;
  let run: Run;
  beforeAll(() => {
    const r = plumbline(['policy', 'test', 'policies', '--json']);
    status = r.status;
    run = JSON.parse(r.stdout) as Run;
  });

  it('passes every test case', () => {
    const failures = run.results.filter((x) => x.status !== 'passed');
    expect(failures, JSON.stringify(failures, null, 2)).toEqual([]);
    expect(status).toBe(0);
  });

  it('has 20 policies, each with a passing and a failing case', () => {
    const folders = readdirSync(join(ROOT, 'policies'), { withFileTypes: true }).filter((d) =>
      d.isDirectory(),
    );
    expect(folders).toHaveLength(20);
    for (const folder of folders) {
      const cases = run.results.filter((x) => x.file.startsWith(`${folder.name}/`));
      expect(
        cases.some((c) => c.expected === 'pass'),
        folder.name,
      ).toBe(true);
      expect(
        cases.some((c) => c.expected === 'fail'),
        folder.name,
      ).toBe(true);
    }
  });
});
