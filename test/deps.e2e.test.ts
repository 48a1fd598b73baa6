// Dependency scanning end to end: real lockfiles in real Git repositories, matched against the shared OSV
// exports (PyPI, Go) and the hand-written npm set in examples/advisories/npm.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../src/check/run.js';
import type { Finding } from '../src/findings/model.js';
import { AdvisoryStore } from '../src/store/advisories.js';
import { gitRepo, plumbline, ROOT, type TempDir, tempDir } from './helpers/repo.js';

const SHARED = join(ROOT, '../shared/data/osv');
const HAS_SHARED = existsSync(join(SHARED, 'PyPI.zip')) && existsSync(join(SHARED, 'Go.zip'));
const NPM_ADVISORIES = join(ROOT, 'examples/advisories/npm');

let dataDir: string;
const dirs: TempDir[] = [];
beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'pl-osv-'));
  const store = AdvisoryStore.open(dataDir);
  store.importPaths(
    HAS_SHARED ? [join(SHARED, 'PyPI.zip'), join(SHARED, 'Go.zip'), NPM_ADVISORIES] : [NPM_ADVISORIES],
  );
  store.close();
}, 60_000);
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  for (const d of dirs) d.remove();
});
function folder(): TempDir {
  const d = tempDir();
  dirs.push(d);
  return d;
}

function lockfile(
  packages: Record<string, { version: string; dependencies?: Record<string, string>; dev?: boolean }>,
  direct: Record<string, string>,
): string {
  const entries: Record<string, unknown> = { '': { name: 'shop', version: '1.0.0', dependencies: direct } };
  for (const [name, p] of Object.entries(packages)) {
    entries[`node_modules/${name}`] = {
      version: p.version,
      resolved: `https://registry.npmjs.org/${name}/-/${name}-${p.version}.tgz`,
      integrity: 'sha512-AAAA',
      ...(p.dependencies === undefined ? {} : { dependencies: p.dependencies }),
      ...(p.dev === true ? { dev: true } : {}),
    };
  }
  return `${JSON.stringify({ name: 'shop', version: '1.0.0', lockfileVersion: 3, requires: true, packages: entries }, null, 2)}\n`;
}

const SHOP_LOCK = lockfile(
  {
    templater: { version: '1.0.0', dependencies: { lodash: '^4.17.15' } },
    lodash: { version: '4.17.15' },
    minimist: { version: '1.2.5' },
  },
  { templater: '^1.0.0', minimist: '^1.2.5' },
);

function byId(findings: readonly Finding[]): Map<string, Finding> {
  return new Map(findings.map((f) => [f.ruleId, f]));
}

describe.skipIf(!HAS_SHARED)('against the shared PyPI and Go advisories', () => {
  it('finds the known advisories of django 2.2.0, requests 2.19.0 and an old golang.org/x/net, with their fixes', async () => {
    const d = folder();
    d.write({
      'requirements.txt': 'django==2.2.0\nrequests==2.19.0  # pinned\n',
      'go.mod':
        'module example.com/demo\n\ngo 1.21\n\nrequire golang.org/x/net v0.0.0-20210226172049-e18ecbb05110\n',
    });
    const report = await runCheck({
      path: d.path,
      source: { kind: 'tree' },
      only: ['deps'],
      deps: { dataDir },
    });
    const found = byId(report.findings);
    const requests = found.get('PYSEC-2018-28');
    expect(requests?.dependency).toMatchObject({
      name: 'requests',
      version: '2.19.0',
      upgradeTo: '2.20.0',
      fixedVersions: ['2.20.0'],
    });
    expect(requests?.dependency?.aliases).toContain('CVE-2018-18074');
    expect(requests?.location).toMatchObject({ path: 'requirements.txt', startLine: 2 });
    expect(found.get('PYSEC-2023-74')?.dependency?.upgradeTo).toBe('2.31.0');
    // One upgrade that fixes every advisory found in the package.
    expect(requests?.dependency?.upgradeFixesAll).toBe('2.31.0');
    expect(found.get('PYSEC-2019-79')?.dependency?.upgradeFixesAll).toBe('2.2.28');
    expect(found.get('PYSEC-2019-79')?.dependency).toMatchObject({ name: 'django', upgradeTo: '2.2.2' });
    expect(found.get('PYSEC-2022-2')?.dependency?.upgradeTo).toBe('2.2.26');
    expect(found.get('GO-2021-0238')?.dependency).toMatchObject({
      name: 'golang.org/x/net',
      upgradeTo: 'v0.0.0-20210520170846-37e1c6afe023',
    });
    expect(found.get('GO-2022-1144')?.dependency?.upgradeTo).toBe('v0.4.0');
    expect(found.get('GO-2021-0238')?.location).toMatchObject({ path: 'go.mod', startLine: 5 });
    expect(report.databases?.[0]?.snapshot).toMatch(/^[0-9a-f]{64}$/);
    // An include beside a lockfile in a subfolder is read from that folder.
    d.write({ 'svc/requirements.txt': '-r base.txt\n', 'svc/base.txt': 'requests==2.19.0\n' });
    const nested = await runCheck({
      path: d.path,
      source: { kind: 'tree' },
      only: ['deps'],
      deps: { dataDir },
    });
    expect(
      nested.findings.some((f) => f.location.path === 'svc/base.txt' && f.ruleId === 'PYSEC-2018-28'),
    ).toBe(true);
    // Nothing for versions after every fix.
    d.write({ 'requirements.txt': 'requests==2.32.3\n', 'go.mod': 'module example.com/demo\n\ngo 1.21\n' });
    const clean = await runCheck({
      path: d.path,
      source: { kind: 'tree' },
      only: ['deps'],
      deps: { dataDir },
    });
    expect(clean.findings.filter((f) => f.location.path === 'requirements.txt')).toEqual([]);
  });
});

describe('npm lockfiles against the hand-written npm advisories', () => {
  it('reports each vulnerability once with severity from CVSS, the smallest fix, and the path to a transitive package', async () => {
    const d = folder();
    d.write({ 'package-lock.json': SHOP_LOCK });
    const report = await runCheck({
      path: d.path,
      source: { kind: 'tree' },
      only: ['deps'],
      deps: { dataDir },
    });
    const found = byId(report.findings);
    expect([...found.keys()].sort()).toEqual([
      'GHSA-35jh-r3h4-6jhm',
      'GHSA-p6mc-m468-83gw',
      'GHSA-xvch-5gv4-984h',
    ]);
    const injection = found.get('GHSA-35jh-r3h4-6jhm') as Finding;
    expect(injection.severity).toBe('high'); // CVSS 3.1 base 7.2
    expect(injection.dependency).toMatchObject({
      direct: false,
      upgradeTo: '4.17.21',
      path: ['templater@1.0.0'],
    });
    expect(injection.dependency?.cvss?.score).toBe(7.2);
    expect(found.get('GHSA-p6mc-m468-83gw')?.dependency?.upgradeTo).toBe('4.17.19');
    const minimist = found.get('GHSA-xvch-5gv4-984h') as Finding;
    expect(minimist.severity).toBe('critical'); // 9.8
    expect(minimist.dependency).toMatchObject({ direct: true, upgradeTo: '1.2.6' });
    expect(minimist.cwe).toEqual(['CWE-1321']);
    expect(report.gate.passed).toBe(false);
  });

  it('--fixable-only drops what has no fix; --fail-on and suppressions by advisory and package apply', async () => {
    const advisories = folder();
    advisories.write({
      'unfixed.yaml': `id: PLB-2026-0001
modified: "2026-01-01T00:00:00Z"
summary: Unfixed flaw in leftpad-ng
affected:
  - package: { ecosystem: npm, name: leftpad-ng }
    ranges:
      - type: SEMVER
        events: [{ introduced: "0" }]
`,
    });
    const ownData = mkdtempSync(join(tmpdir(), 'pl-osv-own-'));
    const store = AdvisoryStore.open(ownData);
    store.importPaths([NPM_ADVISORIES, advisories.path]);
    store.close();
    const d = folder();
    d.write({
      'package-lock.json': lockfile(
        { 'leftpad-ng': { version: '2.0.0' }, minimist: { version: '1.2.5' } },
        { 'leftpad-ng': '2', minimist: '1' },
      ),
    });
    const all = await runCheck({
      path: d.path,
      source: { kind: 'tree' },
      only: ['deps'],
      deps: { dataDir: ownData },
    });
    expect(all.findings.map((f) => f.ruleId).sort()).toEqual(['GHSA-xvch-5gv4-984h', 'PLB-2026-0001']);
    const fixable = await runCheck({
      path: d.path,
      source: { kind: 'tree' },
      only: ['deps'],
      deps: { dataDir: ownData, fixableOnly: true },
    });
    expect(fixable.findings.map((f) => f.ruleId)).toEqual(['GHSA-xvch-5gv4-984h']);

    d.write({
      '.plumbline/suppressions.yaml': `suppressions:
  - advisory: CVE-2021-44906
    reason: only parses our own trusted argv
    expires: 2999-01-01
  - package: leftpad-ng
    reason: no fix upstream; input is validated before
`,
    });
    const suppressed = await runCheck({
      path: d.path,
      source: { kind: 'tree' },
      only: ['deps'],
      deps: { dataDir: ownData },
    });
    expect(suppressed.findings.every((f) => f.suppression?.kind === 'external')).toBe(true);
    expect(suppressed.gate.passed).toBe(true);
    rmSync(ownData, { recursive: true, force: true });
  });

  it('--since judges only packages the branch added or changed', async () => {
    const repo = gitRepo();
    dirs.push(repo);
    repo.commit('base', {
      'package-lock.json': lockfile({ minimist: { version: '1.2.5' } }, { minimist: '^1.2.5' }),
    });
    repo.git('checkout', '-q', '-b', 'feature');
    repo.commit('add a templater', { 'package-lock.json': SHOP_LOCK });
    const report = await runCheck({
      path: repo.path,
      source: { kind: 'tree' },
      only: ['deps'],
      since: 'main',
      deps: { dataDir },
    });
    expect(report.findings.map((f) => f.dependency?.name).sort()).toEqual(['lodash', 'lodash']);
  });

  it('a malformed lockfile is reported with its line and the rest of the scan goes on', async () => {
    const d = folder();
    d.write({
      'a/package-lock.json': '{\n  "lockfileVersion": 3,\n  "packages": {\n    oops\n',
      'b/package-lock.json': SHOP_LOCK,
    });
    const report = await runCheck({
      path: d.path,
      source: { kind: 'tree' },
      only: ['deps'],
      deps: { dataDir },
    });
    expect(report.findings.length).toBe(3);
    expect(report.skipped.map((s) => s.path)[0]).toMatch(/^a\/package-lock\.json:\d+$/);
  });

  it('without a database, says how many packages went unchecked instead of passing silently', async () => {
    const d = folder();
    d.write({ 'package-lock.json': SHOP_LOCK });
    const empty = mkdtempSync(join(tmpdir(), 'pl-osv-empty-'));
    const report = await runCheck({
      path: d.path,
      source: { kind: 'tree' },
      only: ['deps'],
      deps: { dataDir: empty },
    });
    expect(report.findings).toEqual([]);
    expect(report.skipped[0]?.detail).toMatch(/no advisory database .* 3 packages were not checked/);
  });
});

describe('the CLI', () => {
  it('db import, db status, check --only deps and sbom', () => {
    const own = mkdtempSync(join(tmpdir(), 'pl-osv-cli-'));
    const imported = plumbline(['db', 'import', NPM_ADVISORIES, '--data-dir', own]);
    expect(imported.status).toBe(0);
    expect(imported.stdout).toMatch(/imported 6 documents/);
    const status = JSON.parse(plumbline(['db', 'status', '--data-dir', own, '--json']).stdout) as {
      documents: number;
      contentHash: string;
    };
    expect(status.documents).toBe(6);
    const d = folder();
    d.write({ 'package-lock.json': SHOP_LOCK });
    const check = plumbline(['check', d.path, '--only', 'deps', '--data-dir', own, '--format', 'text']);
    expect(check.status).toBe(1);
    expect(check.stdout).toContain('fix: upgrade to 1.2.6');
    expect(check.stdout).toContain('via: templater@1.0.0 > lodash@4.17.15');
    expect(check.stdout).toContain(
      'lodash 4.17.15 (package-lock.json): 2 vulnerabilities, upgrade to 4.17.21 fixes all',
    );
    expect(check.stdout).toContain(status.contentHash.slice(0, 16));
    const sarif = JSON.parse(
      plumbline(['check', d.path, '--only', 'deps', '--data-dir', own, '--format', 'sarif']).stdout,
    ) as {
      runs: { properties?: { databases: { snapshot: string }[] } }[];
    };
    expect(sarif.runs[0]?.properties?.databases[0]?.snapshot).toBe(status.contentHash);
    const sbom = plumbline(['sbom', d.path, '--format', 'cyclonedx']);
    expect(sbom.status).toBe(0);
    expect((JSON.parse(sbom.stdout) as { components: unknown[] }).components).toHaveLength(3);
    const spdx = plumbline(['sbom', d.path, '--format', 'spdx']);
    expect((JSON.parse(spdx.stdout) as { spdxVersion: string }).spdxVersion).toBe('SPDX-2.3');
    expect(plumbline(['sbom', d.path, '--format', 'xml']).status).toBe(2);
    expect(plumbline(['db', 'import', join(d.path, 'missing.zip'), '--data-dir', own]).status).toBe(2);
    rmSync(own, { recursive: true, force: true });
    expect(readFileSync(join(d.path, 'package-lock.json'), 'utf8')).toBe(SHOP_LOCK); // never touched
  });
});
