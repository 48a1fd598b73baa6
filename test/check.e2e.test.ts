// End to end: the built CLI against real Git repositories in temp folders.
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkJson, fake, gitRepo, plumbline, type TempDir, tempDir } from './helpers/repo.js';

const dirs: TempDir[] = [];
function track<T extends TempDir>(d: T): T {
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

describe('plumbline check (working tree)', () => {
  it('finds a planted key, fails the gate, and never prints the secret', () => {
    const key = fake.aws();
    const repo = track(gitRepo());
    repo.commit('init', { 'app/settings.py': `import os\n\nAWS_ACCESS_KEY_ID = "${key}"\n` });
    const { status, report } = checkJson([repo.path]);
    expect(status).toBe(1);
    const f = report.findings.find((x) => x.ruleId.startsWith('aws-'));
    expect(f?.location).toMatchObject({ path: 'app/settings.py', startLine: 3 });
    expect(JSON.stringify(report)).not.toContain(key);
    for (const format of ['text', 'sarif', 'markdown', 'junit']) {
      const r = plumbline(['check', repo.path, '--format', format]);
      expect(r.status).toBe(1);
      expect(r.stdout).not.toContain(key);
      expect(r.stdout.length).toBeGreaterThan(50);
    }
  });

  it('writes to a device without replacing it', () => {
    const dir = track(tempDir());
    dir.write({ 'a.txt': 'x' });
    expect(plumbline(['check', dir.path, '--format', 'json', '--output', '/dev/null']).status).toBe(0);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('prints the secret only with --show-secrets', () => {
    const key = fake.aws();
    const dir = track(tempDir());
    dir.write({ 'a.env': `AWS_ACCESS_KEY_ID=${key}\n` });
    expect(plumbline(['check', dir.path, '--show-secrets']).stdout).toContain(key);
  });

  it('passes a clean tree with exit 0, and --fail-on moves the threshold', () => {
    const dir = track(tempDir());
    dir.write({ 'README.md': '# hello\n', 'x.env': `DB_PASSWORD=${fake.password()}\n` });
    expect(checkJson([dir.path]).status).toBe(1);
    expect(checkJson([dir.path, '--fail-on', 'critical']).status).toBe(0);
    const clean = track(tempDir());
    clean.write({ 'README.md': '# hello\n' });
    expect(checkJson([clean.path]).status).toBe(0);
  });

  it('respects .gitignore in a plain folder and in a repository', () => {
    const dir = track(tempDir());
    dir.write({ '.gitignore': 'secrets/\n', 'secrets/k.env': `AWS_ACCESS_KEY_ID=${fake.aws()}\n` });
    expect(checkJson([dir.path]).report.findings).toHaveLength(0);
    const repo = track(gitRepo());
    repo.write({ '.gitignore': '*.local\n', 'a.local': `AWS_ACCESS_KEY_ID=${fake.aws()}\n`, 'b.txt': 'x' });
    expect(checkJson([repo.path]).report.findings).toHaveLength(0);
  });

  it('skips binary and oversized files and says so', () => {
    const dir = track(tempDir());
    const big = Buffer.alloc(2 * 1024 * 1024, 0x61);
    dir.write({
      'img.png': Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]),
        Buffer.from(`AWS=${fake.aws()}`),
      ]),
      'big.txt': big,
      'plumbline.yaml':
        'apiVersion: plumbline.dev/v1alpha1\nkind: Check\nmetadata: { name: default }\nspec:\n  maxFileSize: 1MiB\n',
    });
    const { report } = checkJson([dir.path]);
    expect(report.skipped.map((s) => `${s.path}:${s.reason}`).sort()).toEqual([
      'big.txt:too-large',
      'img.png:binary',
    ]);
    const text = plumbline(['check', dir.path]);
    expect(text.stdout).toMatch(/skipped/i);
  });

  it('uses worker threads on a larger tree and still finds every planted secret', () => {
    const dir = track(tempDir());
    const files: Record<string, string> = {};
    for (let i = 0; i < 400; i++) files[`src/m${i}.js`] = `export const v${i} = ${i};\n`.repeat(20);
    const keys = [fake.aws(), fake.aws(), fake.aws()];
    files['src/m7.js'] += `const k = "${keys[0]}";\n`;
    files['src/m199.js'] += `const k = "${keys[1]}";\n`;
    files['src/m398.js'] += `const k = "${keys[2]}";\n`;
    dir.write(files);
    const { report } = checkJson([dir.path]);
    expect(report.stats.files).toBe(400);
    expect(report.findings.map((f) => f.location.path).sort()).toEqual([
      'src/m199.js',
      'src/m398.js',
      'src/m7.js',
    ]);
    expect(report.findings.every((f) => f.location.startLine === 21)).toBe(true);
  });

  it('honours inline plumbline:allow', () => {
    const dir = track(tempDir());
    dir.write({ 'a.env': `AWS_ACCESS_KEY_ID=${fake.aws()} # plumbline:allow\n` });
    const { status, report } = checkJson([dir.path]);
    expect(status).toBe(0);
    expect(report.findings[0]?.suppression?.kind).toBe('inSource');
  });

  it('applies include and exclude paths from the Check', () => {
    const dir = track(tempDir());
    dir.write({
      'a/x.env': `AWS_ACCESS_KEY_ID=${fake.aws()}\n`,
      'b/y.env': `AWS_ACCESS_KEY_ID=${fake.aws()}\n`,
      'plumbline.yaml':
        'apiVersion: plumbline.dev/v1alpha1\nkind: Check\nspec:\n  paths: { exclude: ["b/**"] }\n',
    });
    expect(checkJson([dir.path]).report.findings.map((f) => f.location.path)).toEqual(['a/x.env']);
  });

  it('runs custom rules from the Check, and rejects one that fails its own example', () => {
    const dir = track(tempDir());
    const config = (positive: string): string => `apiVersion: plumbline.dev/v1alpha1
kind: Check
spec:
  secrets:
    rules:
      - id: acme-token
        description: ACME internal token
        keywords: [acme_]
        pattern: 'acme_[a-z0-9]{24}'
        examples: { positive: ['${positive}'], negative: ['acme_short'] }
`;
    dir.write({
      'plumbline.yaml': config('t = acme_0123456789abcdefghijklmn'),
      'a.txt': 'x = acme_abcdefghijklmnopqrstuvwx\n',
    });
    // The configuration's own positive example is a match too: the scanner reads plumbline.yaml like any file.
    const found = checkJson([dir.path]).report.findings.map((f) => `${f.ruleId} ${f.location.path}`);
    expect(found.sort()).toEqual(['acme-token a.txt', 'acme-token plumbline.yaml']);
    dir.write({ 'plumbline.yaml': config('nothing here') });
    const r = plumbline(['check', dir.path]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('spec.secrets.rules[0].examples.positive[0]');
  });
});

describe('plumbline check --history', () => {
  it('finds a secret removed from the tree, once, with the commit that introduced it', () => {
    const token = fake.github();
    const repo = track(gitRepo());
    repo.commit('one', { 'README.md': 'hi\n' });
    const introduced = repo.commit('add ci', { 'ci.sh': `#!/bin/sh\nexport GITHUB_TOKEN=${token}\n` });
    repo.commit('copy', { 'ci2.sh': `export GITHUB_TOKEN=${token}\n` });
    repo.commit('remove', { 'ci.sh': '#!/bin/sh\n', 'ci2.sh': '\n' });
    expect(checkJson([repo.path]).report.findings).toHaveLength(0);
    const { status, report } = checkJson([repo.path, '--history']);
    expect(status).toBe(1);
    const hits = report.findings.filter((f) => f.ruleId.startsWith('github'));
    expect(hits).toHaveLength(1);
    expect(hits[0]?.location).toMatchObject({ path: 'ci.sh', startLine: 2, commit: introduced });
    expect(hits[0]?.location.author).toContain('Ada Lovelace');
    expect(hits[0]?.location.date).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('takes a revision range', () => {
    const repo = track(gitRepo());
    repo.commit('old', { 'a.env': `AWS_ACCESS_KEY_ID=${fake.aws()}\n` });
    const base = repo.git('rev-parse', 'HEAD').trim();
    repo.commit('new', { 'b.env': `AWS_ACCESS_KEY_ID=${fake.aws()}\n` });
    const { report } = checkJson([repo.path, `--history=${base}..HEAD`]);
    expect(report.findings.map((f) => f.location.path)).toEqual(['b.env']);
    const bad = plumbline(['check', repo.path, '--history=nope..HEAD']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/nope/);
  });

  it('works on a detached HEAD and on an empty repository', () => {
    const repo = track(gitRepo());
    repo.commit('one', { 'a.env': `AWS_ACCESS_KEY_ID=${fake.aws()}\n` });
    repo.commit('two', { 'b.txt': 'b\n' });
    repo.git('checkout', '-q', '--detach', 'HEAD~1');
    const { report } = checkJson([repo.path, '--history']);
    expect(report.findings).toHaveLength(1);
    expect(report.stats.source).toMatch(/detached/);
    const empty = track(gitRepo());
    const r = checkJson([empty.path, '--history']);
    expect(r.status).toBe(0);
    expect(r.report.findings).toHaveLength(0);
    expect(checkJson([empty.path]).status).toBe(0);
  });

  it('refuses --history, --staged and --since outside a Git repository', () => {
    const dir = track(tempDir());
    dir.write({ 'a.txt': 'x' });
    for (const flag of ['--history', '--staged', '--since=main']) {
      const r = plumbline(['check', dir.path, flag]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/not inside a Git repository/);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});

describe('plumbline check --staged', () => {
  it('scans what is staged, not the working tree', () => {
    const repo = track(gitRepo());
    repo.commit('init', { 'README.md': 'x\n' });
    repo.write({
      'staged.env': `AWS_ACCESS_KEY_ID=${fake.aws()}\n`,
      'unstaged.env': `AWS_ACCESS_KEY_ID=${fake.aws()}\n`,
    });
    repo.git('add', 'staged.env');
    const { status, report } = checkJson([repo.path, '--staged']);
    expect(status).toBe(1);
    expect(report.findings.map((f) => f.location.path)).toEqual(['staged.env']);
  });

  it('works before the first commit', () => {
    const repo = track(gitRepo());
    repo.write({ 'a.env': `AWS_ACCESS_KEY_ID=${fake.aws()}\n` });
    repo.git('add', '-A');
    expect(checkJson([repo.path, '--staged']).report.findings).toHaveLength(1);
  });
});

describe('plumbline check --since', () => {
  it('reports only what lines added since the merge-base introduce', () => {
    const repo = track(gitRepo());
    repo.commit('base', { 'a.env': `AWS_ACCESS_KEY_ID=${fake.aws()}\n` });
    repo.git('checkout', '-q', '-b', 'feature');
    repo.commit('feature', {
      'a.env': `${readFileSync(join(repo.path, 'a.env'), 'utf8')}GITHUB_TOKEN=${fake.github()}\n`,
    });
    repo.write({ 'new.env': `AWS_ACCESS_KEY_ID=${fake.aws()}\n` }); // untracked: all new
    const { report } = checkJson([repo.path, '--since', 'main']);
    expect(report.findings.map((f) => `${f.location.path}:${f.location.startLine}`).sort()).toEqual([
      'a.env:2',
      'new.env:1',
    ]);
    const r = plumbline(['check', repo.path, '--since', 'no-such-branch']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no commit "no-such-branch"');
  });
});

describe('baseline and suppressions', () => {
  it('gates only on new findings, and moving code keeps old ones known', () => {
    const repo = track(gitRepo());
    const old = `AWS_ACCESS_KEY_ID=${fake.aws()}\n`;
    repo.write({ 'a.env': old });
    const b = plumbline(['baseline', repo.path]);
    expect(b.status).toBe(0);
    const baseline = readFileSync(join(repo.path, '.plumbline/baseline.json'), 'utf8');
    expect(baseline).not.toMatch(/"line"|startLine/);
    expect(checkJson([repo.path, '--baseline']).status).toBe(0);
    repo.write({ 'a.env': `# moved down\n\n${old}` });
    const moved = checkJson([repo.path, '--baseline']);
    expect(moved.status).toBe(0);
    expect(moved.report.findings[0]?.baselineState).toBe('unchanged');
    repo.write({ 'b.env': `GITHUB_TOKEN=${fake.github()}\n` });
    const added = checkJson([repo.path, '--baseline']);
    expect(added.status).toBe(1);
    expect(
      added.report.findings.filter((f) => f.baselineState === 'new').map((f) => f.location.path),
    ).toEqual(['b.env']);
    repo.write({ 'a.env': '\n' });
    expect(checkJson([repo.path, '--baseline']).report.absent).toHaveLength(1);
  });

  it('a corrupt baseline is a clear error', () => {
    const dir = track(tempDir());
    dir.write({ '.plumbline/baseline.json': '{"version": 1, "findings": [' });
    const r = plumbline(['check', dir.path, '--baseline']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/baseline .* is not valid JSON/);
  });

  it('suppresses with a reason until the expiry date, then reports the expiry', () => {
    const dir = track(tempDir());
    dir.write({
      'fixtures/a.env': `AWS_ACCESS_KEY_ID=${fake.aws()}\n`,
      '.plumbline/suppressions.yaml':
        'suppressions:\n  - path: "fixtures/**"\n    reason: revoked test key\n    expires: 2999-01-01\n',
    });
    const ok = checkJson([dir.path]);
    expect(ok.status).toBe(0);
    expect(ok.report.findings[0]?.suppression).toMatchObject({
      kind: 'external',
      justification: 'revoked test key',
    });
    dir.write({
      '.plumbline/suppressions.yaml':
        'suppressions:\n  - path: "fixtures/**"\n    reason: revoked test key\n    expires: 2001-01-01\n',
    });
    const expired = checkJson([dir.path]);
    expect(expired.status).toBe(1);
    expect(expired.report.findings.map((f) => f.ruleId).sort()).toContain('plumbline-expired-suppression');
    expect(expired.report.findings.find((f) => f.ruleId.startsWith('aws'))?.suppression).toBeUndefined();
  });

  it('a suppression without a reason is rejected with file and line', () => {
    const dir = track(tempDir());
    dir.write({
      '.plumbline/suppressions.yaml':
        'suppressions:\n  - rule: generic-password\n  - path: x\n    reason: ""\n',
    });
    const r = plumbline(['check', dir.path]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/suppressions\.yaml:2: suppressions\[0\].*reason/);
  });
});

describe('bad input', () => {
  const cases: [string, string, RegExp][] = [
    [
      'YAML syntax',
      'apiVersion: plumbline.dev/v1alpha1\nkind: Check\nspec:\n  failOn: [high\n',
      /plumbline\.yaml:\d+: YAML syntax error/,
    ],
    [
      'unknown kind',
      'apiVersion: plumbline.dev/v1alpha1\nkind: Chekc\n',
      /plumbline\.yaml:2: kind: unknown kind "Chekc"/,
    ],
    [
      'wrong apiVersion',
      'apiVersion: v1\nkind: Check\n',
      /plumbline\.yaml:1: apiVersion: must be "plumbline\.dev\/v1alpha1"/,
    ],
    [
      'bad severity',
      'apiVersion: plumbline.dev/v1alpha1\nkind: Check\nspec:\n  failOn: urgent\n',
      /plumbline\.yaml:4: spec\.failOn:/,
    ],
    [
      'unknown field',
      'apiVersion: plumbline.dev/v1alpha1\nkind: Check\nspec:\n  secrets:\n    alow: {}\n',
      /plumbline\.yaml:5: spec\.secrets\.alow: unknown field/,
    ],
    [
      'bad regex',
      'apiVersion: plumbline.dev/v1alpha1\nkind: Check\nspec:\n  secrets:\n    allow:\n      regexes: ["(unclosed"]\n',
      /plumbline\.yaml:6: spec\.secrets\.allow\.regexes\[0\]: not a valid regular expression/,
    ],
    [
      'bad size',
      'apiVersion: plumbline.dev/v1alpha1\nkind: Check\nspec:\n  maxFileSize: lots\n',
      /plumbline\.yaml:4: spec\.maxFileSize/,
    ],
    ['a list, not a mapping', '- a\n- b\n', /plumbline\.yaml:1: a document must be a mapping/],
  ];
  for (const [name, yaml, pattern] of cases) {
    it(`configuration: ${name}`, () => {
      const dir = track(tempDir());
      dir.write({ 'plumbline.yaml': yaml });
      const r = plumbline(['check', dir.path]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).toContain('hint:');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('binary and huge configuration files', () => {
    const dir = track(tempDir());
    dir.write({ 'plumbline.yaml': Buffer.from([0x00, 0x01, 0x02, 0xff]) });
    expect(plumbline(['check', dir.path]).stderr).toMatch(/binary/);
    dir.write({ 'plumbline.yaml': `# ${'x'.repeat(5 * 1024 * 1024)}\n` });
    const r = plumbline(['check', dir.path]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/limit is 4 MiB/);
  });

  it('missing paths, unknown flags, formats, analyzers and severities exit 2', () => {
    expect(plumbline(['check', '/nonexistent/path']).status).toBe(2);
    expect(plumbline(['check', '--no-such-flag']).status).toBe(2);
    expect(plumbline(['check', '.', '--format', 'pdf']).stderr).toMatch(/unknown format "pdf"/);
    expect(plumbline(['check', '.', '--only', 'sast']).stderr).toMatch(/not built yet/);
    expect(plumbline(['check', '.', '--fail-on', 'urgent']).status).toBe(2);
    expect(plumbline(['frobnicate']).status).toBe(2);
  });

  it('an unreadable file is reported and the scan goes on', () => {
    // Root reads any file whatever its mode, so a folder where a file is expected stands in for EACCES
    // only when not root; as root, check the mode-000 path is at least scanned without a crash.
    const dir = track(tempDir());
    dir.write({ 'ok.env': `AWS_ACCESS_KEY_ID=${fake.aws()}\n`, 'locked.env': 'x\n' });
    chmodSync(join(dir.path, 'locked.env'), 0o000);
    const { status, report } = checkJson([dir.path]);
    expect(status).toBe(1);
    expect(report.findings).toHaveLength(1);
    if (process.getuid?.() !== 0) expect(report.skipped.map((s) => s.reason)).toContain('unreadable');
  });
});

describe('commands', () => {
  it('every command has --help with examples', () => {
    for (const args of [
      [],
      ['check'],
      ['baseline'],
      ['schema'],
      ['hook', 'install'],
      ['rules', 'list'],
      ['rules', 'export'],
    ]) {
      const r = plumbline([...args, '--help']);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(/Examples:/);
    }
    expect(plumbline(['check', '--help']).stdout).toMatch(/Exit codes:[\s\S]*3 +an internal failure/);
  });

  it('schema prints a JSON Schema that knows the Check kind', () => {
    const r = plumbline(['schema']);
    expect(r.status).toBe(0);
    const schema = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(JSON.stringify(schema)).toContain('"Check"');
    expect(JSON.stringify(schema)).toContain('failOn');
  });

  it('rules list and export', () => {
    const list = JSON.parse(plumbline(['rules', 'list', '--json']).stdout) as { id: string }[];
    expect(list.length).toBeGreaterThanOrEqual(150);
    const exported = plumbline(['rules', 'export', '--format', 'ripgrep']).stdout.trim().split('\n');
    expect(exported).toHaveLength(list.length);
  });

  it('hook install blocks a commit that adds a secret', () => {
    const repo = track(gitRepo());
    repo.commit('init', { 'README.md': 'x\n' });
    const r = plumbline(['hook', 'install', repo.path]);
    expect(r.status).toBe(0);
    repo.write({ 'a.env': `AWS_ACCESS_KEY_ID=${fake.aws()}\n` });
    repo.git('add', '-A');
    expect(() => repo.git('commit', '-q', '-m', 'leak')).toThrow(/aws/i);
    repo.write({ 'a.env': 'AWS_REGION=eu-west-1\n' });
    repo.git('add', '-A');
    expect(() => repo.git('commit', '-q', '-m', 'fine')).not.toThrow();
    mkdirSync(join(repo.path, '.git/hooks'), { recursive: true });
    writeFileSync(join(repo.path, '.git/hooks/pre-commit'), '#!/bin/sh\necho mine\n');
    expect(plumbline(['hook', 'install', repo.path]).status).toBe(2);
    expect(plumbline(['hook', 'install', repo.path, '--force']).status).toBe(0);
  });
});
