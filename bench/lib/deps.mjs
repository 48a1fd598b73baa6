// The dependency-scanning inputs: a large OSV advisory set cloned from the real documents of the shared exports,
// and a repository whose lockfiles hold about 10,000 packages, a share of which have advisories.
//
// Advisories. The real PyPI and Go documents (../shared/data/osv/{PyPI,Go}.zip) are the templates: each
// generated document is a copy of one (its keys, text, references, credits, aliases' shape, GIT ranges,
// ecosystem_specific, the shape of its events: `introduced: 0` + `fixed`, several introduced/fixed pairs,
// `last_affected`, unfixed…) with a new id (`BENCH-<ecosystem>-<n>`), new aliases, new package names and new
// event versions, in five ecosystems (npm, PyPI, Go, crates.io, Maven), each with version strings valid in that
// ecosystem (PyPI `1.2`, `2.0rc1`, `1.4.post1`; Maven `.Final`, `-RC1`; semver pre-releases; Go `/vN` modules).
// PyPI documents also get the `versions` list osv.dev enumerates. npm, crates.io and Maven documents get a
// CVSS vector and the database_specific fields of GHSA/RustSec documents. About 15% of vulnerabilities are
// published twice (two ids sharing a CVE alias, as GHSA and PYSEC/GO documents are), so alias merging runs.
// They are written as one zip per ecosystem (`bench-<ecosystem>.zip`, laid out like the OSV exports).
//
// Each package has a fixed list of releases (from a PRNG seeded by its name), and every event version is one of
// those releases, picked by index. So whether a pinned release is affected is known by index arithmetic: the
// generator computes the expected findings independently of plumbline's version schemes, and the benchmark
// compares the two.
//
// Repository: frontend/package-lock.json (v3, ~60%: top-level packages, some nested duplicates at other
// versions, a dependency graph), backend/requirements.txt (pip-compile --generate-hashes output, ~20%),
// services/gateway/go.mod (+ go.sum, ~10%) and native/Cargo.lock (+ Cargo.toml, ~10%). About 8% of the
// packages are names that have advisories; their pinned release is a random one of their releases, so some
// are affected and some are not. Everything is seeded: the same parameters give the same files.
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { strToU8, unzipSync, Zip, ZipDeflate } from 'fflate';
import { ensureDir, log, prng, sha256 } from './util.mjs';

// Bump when the generators change, so cached inputs are rebuilt.
const ADVISORIES_FORMAT = 1;
const REPO_FORMAT = 1;

export const SHARED_ZIPS = ['PyPI.zip', 'Go.zip'];

/** Share of the generated documents per ecosystem (sums to 1). */
const ECOSYSTEM_SHARE = [
  ['npm', 0.35],
  ['PyPI', 0.2],
  ['Go', 0.15],
  ['crates.io', 0.1],
  ['Maven', 0.2],
];
/** Share of the repository's packages per lockfile (sums to 1). */
const REPO_SHARE = { npm: 0.6, PyPI: 0.2, Go: 0.1, 'crates.io': 0.1 };
/** Share of the repository's packages whose name has advisories. */
const VULNERABLE_NAME_SHARE = 0.08;
/** Share of vulnerabilities published as two documents that share a CVE alias. */
const TWIN_SHARE = 0.15;
/** Documents per distinct package name, on average. */
const DOCS_PER_NAME = 3;

// ------------------------------------------------------------------------------------------ small helpers

function fnv1a(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const HEX = '0123456789abcdef';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const GHSA = '23456789cfghjmpqrvwx';

const SYLLABLES = (
  'ka lo mi ne ra to vu zen qua bri dex fol gar hin jux kor lum mar nov pex quin ros sil tam ur vel wix yar ' +
  'zor al ber cor dal eno fin gle hox ix jam kel sto pra tri mon dra ple'
).split(' ');

function word(r) {
  let w = '';
  const n = r.int(2, 3);
  for (let i = 0; i < n; i++) w += r.pick(SYLLABLES);
  return w;
}

/** A new package name in the ecosystem's usual shapes (canonical spelling for PyPI). */
function packageName(eco, r) {
  const a = word(r);
  const b = word(r);
  switch (eco) {
    case 'npm': {
      const x = r.next();
      return x < 0.12 ? `@${a}/${b}` : x < 0.2 ? a : `${a}-${b}`;
    }
    case 'PyPI':
      return r.chance(0.3) ? a : `${a}-${b}`;
    case 'crates.io': {
      const x = r.next();
      return x < 0.2 ? a : x < 0.5 ? `${a}_${b}` : `${a}-${b}`;
    }
    case 'Go': {
      const x = r.next();
      const base = x < 0.85 ? `github.com/${a}/${b}` : x < 0.9 ? `gitlab.com/${a}/${b}` : `go.${a}.io/${b}`;
      return r.chance(0.2) ? `${base}/v${r.int(2, 5)}` : base;
    }
    case 'Maven':
      return `${r.pick(['org', 'com', 'io'])}.${a}.${b}:${word(r)}-${r.pick(['core', 'api', 'client', 'common', 'web', 'util'])}`;
    default:
      throw new Error(`no name shape for ${eco}`);
  }
}

/**
 * The releases of a package, oldest first, as valid version strings of its ecosystem (OSV spelling: Go without
 * the `v`). Deterministic from the name. The order by construction is the ecosystem's order.
 */
export function releases(eco, name) {
  const r = prng(fnv1a(`${eco}\0${name}`));
  let majors;
  if (eco === 'Go') {
    const suffix = /\/v(\d+)$/.exec(name);
    majors = suffix !== null ? [Number(suffix[1])] : r.chance(0.5) ? [0, 1] : [r.int(0, 1)];
  } else {
    const start = r.chance(0.35) ? 0 : 1;
    majors = Array.from({ length: r.int(1, 4) }, (_, i) => start + i);
  }
  const pyShort = r.chance(0.5); // PyPI `1.2` rather than `1.2.0`
  const mavenFinal = r.chance(0.25); // Maven `1.2.3.Final`
  const out = [];
  for (const M of majors) {
    if (M > 0 && r.chance(0.3)) {
      // a pre-release before M.0.0
      if (eco === 'PyPI') out.push(pyShort ? `${M}.0rc1` : `${M}.0.0rc1`);
      else if (eco === 'Maven') out.push(mavenFinal ? `${M}.0.0.CR1` : `${M}.0.0-RC1`);
      else out.push(`${M}.0.0-${r.pick(['rc.1', 'beta.1', 'alpha.2'])}`);
    }
    const minors = r.int(1, 7);
    for (let m = 0; m < minors; m++) {
      const patches = r.int(0, 5);
      for (let p = 0; p <= patches; p++) {
        if (eco === 'PyPI') {
          const v = pyShort && p === 0 ? `${M}.${m}` : `${M}.${m}.${p}`;
          out.push(v);
          if (r.chance(0.04)) out.push(`${v}.post1`);
        } else if (eco === 'Maven') {
          out.push(mavenFinal ? `${M}.${m}.${p}.Final` : `${M}.${m}.${p}`);
        } else {
          out.push(`${M}.${m}.${p}`);
        }
      }
    }
  }
  return out;
}

function purlOf(eco, name) {
  switch (eco) {
    case 'npm':
      return `pkg:npm/${name.replace(/^@/, '%40')}`;
    case 'PyPI':
      return `pkg:pypi/${name}`;
    case 'crates.io':
      return `pkg:cargo/${name}`;
    case 'Maven': {
      const [group, artifact] = name.split(':');
      return `pkg:maven/${group}/${artifact}`;
    }
    default:
      return undefined; // the Go database writes no purl
  }
}

function cvssVector(r) {
  const p = (list) => r.pick(list);
  return `CVSS:3.1/AV:${p(['N', 'N', 'N', 'A', 'L'])}/AC:${p(['L', 'L', 'H'])}/PR:${p(['N', 'N', 'L', 'H'])}/UI:${p(['N', 'R'])}/S:${p(['U', 'U', 'C'])}/C:${p(['H', 'L', 'N'])}/I:${p(['H', 'L', 'N'])}/A:${p(['H', 'L', 'N'])}`;
}

// ------------------------------------------------------------------------------------------ templates

/** sha256 of the shared zips (the cache key of everything generated from them). */
export function templatesKey(osvDir) {
  return sha256(SHARED_ZIPS.map((z) => sha256(readFileSync(join(osvDir, z)).toString('base64'))).join(''));
}

function loadTemplates(osvDir) {
  const out = { PyPI: [], Go: [] };
  const realNames = new Set();
  for (const zip of SHARED_ZIPS) {
    const eco = zip.replace(/\.zip$/, '');
    const entries = unzipSync(readFileSync(join(osvDir, zip)));
    for (const name of Object.keys(entries).sort()) {
      if (!name.endsWith('.json')) continue;
      const doc = JSON.parse(Buffer.from(entries[name]).toString('utf8'));
      out[eco].push(doc);
      for (const a of doc.affected ?? []) if (a.package !== undefined) realNames.add(a.package.name);
    }
  }
  return { byEco: out, all: [...out.PyPI, ...out.Go], realNames };
}

// ------------------------------------------------------------------------------------------ the model

/**
 * The advisory set as a model (no documents yet): every vulnerability with its template, its documents' ids,
 * its aliases and, per affected entry, a package name and ranges whose events are indices into the package's
 * releases (-1 is `introduced: "0"`).
 */
function buildModel({ templates, advisories }) {
  const r = prng(20260401);
  const vulns = [];
  const byPackage = new Map(); // `${eco}\0${name}` -> [vuln index]
  const pools = {};
  const taken = new Set(templates.realNames);
  let cveSerial = 900000;
  let total = 0;
  ECOSYSTEM_SHARE.forEach(([eco, share], ecoIndex) => {
    const docs =
      ecoIndex === ECOSYSTEM_SHARE.length - 1 ? advisories - total : Math.round(advisories * share);
    total += docs;
    // The package names that have advisories; a few get many (a skewed pick), most get one to three.
    const poolSize = Math.max(1, Math.round(docs / DOCS_PER_NAME));
    const pool = [];
    while (pool.length < poolSize) {
      const name = packageName(eco, r);
      if (taken.has(name)) continue;
      taken.add(name);
      pool.push(name);
    }
    pools[eco] = pool;
    const source = eco === 'PyPI' ? templates.byEco.PyPI : eco === 'Go' ? templates.byEco.Go : templates.all;
    let serial = 0;
    while (serial < docs) {
      const template = source[r.int(0, source.length - 1)];
      const twin = docs - serial >= 2 && r.chance(TWIN_SHARE);
      const ids = [`BENCH-${eco}-${++serial}`];
      if (twin) ids.push(`BENCH-${eco}-${++serial}`);
      const year = Number(/^(\d{4})/.exec(template.published ?? '')?.[1] ?? 2022);
      const cve = `CVE-${year}-${cveSerial++}`;
      const ghsa = `GHSA-${r.chars(GHSA, 4)}-${r.chars(GHSA, 4)}-${r.chars(GHSA, 4)}`;
      const names = new Set();
      const entries = (template.affected ?? []).map((entry) => {
        let name;
        for (let tries = 0; tries < 20; tries++) {
          name = pool[Math.floor(pool.length * r.next() ** 2)];
          if (!names.has(name)) break;
        }
        if (names.has(name)) return undefined;
        names.add(name);
        const count = releases(eco, name).length;
        const ranges = [];
        for (const range of entry.ranges ?? []) {
          if (range.type !== 'ECOSYSTEM' && range.type !== 'SEMVER') continue;
          ranges.push(rangeFromTemplate(range.events, count, r));
        }
        if (ranges.length === 0)
          ranges.push(rangeFromTemplate([{ introduced: '0' }, { fixed: 'x' }], count, r));
        return { name, ranges, templateName: entry.package?.name, entry };
      });
      const index = vulns.length;
      const affected = entries.filter((e) => e !== undefined);
      vulns.push({
        eco,
        template,
        ids,
        cve,
        ghsa,
        withdrawn: template.withdrawn !== undefined,
        affected,
        seed: r.int(0, 2 ** 31),
      });
      for (const e of affected) {
        const key = `${eco}\0${e.name}`;
        const list = byPackage.get(key);
        if (list === undefined) byPackage.set(key, [index]);
        else list.push(index);
      }
    }
  });
  return { vulns, byPackage, pools, taken };
}

/**
 * A range with the template's event kinds in the template's order, each version a distinct release index
 * (increasing in the order of appearance); `introduced: "0"` stays. Events that do not fit the package's
 * releases are dropped in pairs from the end.
 */
function rangeFromTemplate(events, count, r) {
  const kinds = events.map((e) => {
    const kind = ['introduced', 'fixed', 'last_affected', 'limit'].find((k) => e[k] !== undefined);
    return { kind, zero: kind === 'introduced' && e.introduced === '0' };
  });
  let list = kinds.filter((k) => k.kind !== 'limit');
  while (list.filter((k) => !k.zero).length > count && list.length > 1) list = list.slice(0, -2);
  const need = list.filter((k) => !k.zero).length;
  // `need` distinct sorted indices in [0, count)
  const chosen = new Set();
  while (chosen.size < Math.min(need, count)) chosen.add(r.int(0, count - 1));
  const indices = [...chosen].sort((a, b) => a - b);
  let at = 0;
  return list.map((k) => ({ kind: k.kind, index: k.zero ? -1 : indices[at++] }));
}

const KIND_ORDER = { introduced: 0, last_affected: 1, fixed: 2 };

/** The OSV evaluation of one range, on release indices (the schema's algorithm: events sorted by version). */
function inRange(k, range) {
  const events = [...range].sort((a, b) => a.index - b.index || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
  let vulnerable = false;
  for (const e of events) {
    if (e.kind === 'introduced') {
      if (k >= e.index) vulnerable = true;
    } else if (e.kind === 'fixed') {
      if (k >= e.index) vulnerable = false;
    } else if (e.kind === 'last_affected') {
      if (k > e.index) vulnerable = false;
    }
  }
  return vulnerable;
}

function entryAffects(k, entry) {
  return entry.ranges.some((range) => inRange(k, range));
}

// ------------------------------------------------------------------------------------------ documents

function replaceName(text, from, to) {
  if (typeof text !== 'string' || from === undefined || from === '') return text;
  return text.replace(new RegExp(from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), () => to);
}

/** The OSV documents of one vulnerability (one, or two twins). */
function materialize(vuln) {
  const r = prng(vuln.seed);
  const t = vuln.template;
  const eco = vuln.eco;
  const semver = eco === 'npm' || eco === 'Go' || eco === 'crates.io';
  const first = vuln.affected[0];
  const affected = vuln.affected.map((a) => {
    const list = releases(eco, a.name);
    const version = (i) => (i === -1 ? '0' : list[i]);
    const ranges = a.ranges.map((range) => ({
      type: semver ? 'SEMVER' : 'ECOSYSTEM',
      events: range.map((e) => ({ [e.kind]: version(e.index) })),
    }));
    if (eco === 'PyPI') {
      // Keep the template's GIT ranges (the PyPA database has them; the matcher ignores them).
      for (const g of a.entry.ranges ?? []) if (g.type === 'GIT') ranges.unshift(g);
    }
    const pkg = { name: a.name, ecosystem: eco };
    const purl = purlOf(eco, a.name);
    if (purl !== undefined) pkg.purl = purl;
    const out = { package: pkg, ranges };
    if (eco === 'PyPI' && a.entry.versions !== undefined) {
      out.versions = list.filter((_, k) => entryAffects(k, a));
    }
    if (eco === 'Go' && a.entry.ecosystem_specific !== undefined) {
      const imports = (a.entry.ecosystem_specific.imports ?? []).map((imp) => ({
        ...imp,
        path:
          typeof imp.path === 'string' && a.templateName !== undefined && imp.path.startsWith(a.templateName)
            ? a.name + imp.path.slice(a.templateName.length)
            : a.name,
      }));
      out.ecosystem_specific = { ...a.entry.ecosystem_specific, imports };
    }
    if (eco === 'crates.io') {
      out.ecosystem_specific = { affects: { arch: [], os: [], functions: [] } };
      out.database_specific = { informational: null };
    }
    if (eco === 'npm' || eco === 'Maven') {
      out.database_specific = {
        source: `https://github.com/github/advisory-database/blob/main/advisories/github-reviewed/${vuln.ghsa}.json`,
      };
    }
    return out;
  });
  const rename = (text) => replaceName(text, first?.templateName, first?.name);
  const base = { ...t };
  delete base.related;
  delete base.upstream;
  if (base.summary !== undefined) base.summary = rename(base.summary);
  if (base.details !== undefined) base.details = rename(base.details);
  base.affected = affected;
  if (eco === 'npm' || eco === 'Maven' || eco === 'crates.io') {
    if (base.severity === undefined && r.chance(0.85))
      base.severity = [{ type: 'CVSS_V3', score: cvssVector(r) }];
    base.database_specific =
      eco === 'crates.io'
        ? {
            categories: [
              r.pick(['memory-corruption', 'denial-of-service', 'crypto-failure', 'thread-safety']),
            ],
            cvss: base.severity?.[0]?.score ?? null,
            informational: null,
          }
        : {
            cwe_ids: [`CWE-${r.pick([20, 22, 78, 79, 89, 94, 200, 287, 352, 400, 502, 611, 918, 1321])}`],
            severity: r.pick(['LOW', 'MODERATE', 'HIGH', 'CRITICAL']),
            github_reviewed: true,
            github_reviewed_at: t.published ?? t.modified,
            nvd_published_at: t.published ?? null,
          };
  } else if (eco === 'Go' && base.database_specific !== undefined) {
    base.database_specific = { ...base.database_specific, url: `https://pkg.go.dev/vuln/${vuln.ids[0]}` };
  }
  return vuln.ids.map((id, i) => {
    // The first document carries the CVE and a GHSA alias; its twin only the CVE (so the two merge).
    const aliases = i === 0 ? [vuln.cve, vuln.ghsa] : [vuln.cve];
    return { ...base, id, aliases };
  });
}

function writeZip(path, docs) {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  const mtime = new Date('2024-01-01T00:00:00Z');
  try {
    const zip = new Zip((error, chunk) => {
      if (error !== null) throw error;
      writeSync(fd, chunk);
    });
    for (const doc of docs) {
      const entry = new ZipDeflate(`${doc.id}.json`, { level: 6, mtime });
      zip.add(entry);
      entry.push(strToU8(JSON.stringify(doc, null, 2)), true);
    }
    zip.end();
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

// ------------------------------------------------------------------------------------------ repository

function hex(r, n) {
  return r.chars(HEX, n);
}

function b64(r, bytes) {
  const n = Math.ceil((bytes * 4) / 3 / 4) * 4;
  const body = r.chars(B64, n - (bytes % 3 === 0 ? 0 : 3 - (bytes % 3)));
  return body.padEnd(n, '=');
}

/** The spelling of a PyPI name in requirements.txt (pip-compile writes the project's own, not PEP 503's). */
function pypiDisplay(name, r) {
  const x = r.next();
  if (x < 0.15) return name.replaceAll('-', '_');
  if (x < 0.3)
    return name
      .split('-')
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join('-');
  return name;
}

function goPseudo(r) {
  const y = r.int(2019, 2025);
  const mo = String(r.int(1, 12)).padStart(2, '0');
  const d = String(r.int(1, 28)).padStart(2, '0');
  const hms = `${String(r.int(0, 23)).padStart(2, '0')}${String(r.int(0, 59)).padStart(2, '0')}${String(r.int(0, 59)).padStart(2, '0')}`;
  return `0.0.0-${y}${mo}${d}${hms}-${hex(r, 12)}`;
}

/**
 * Picks the names of one lockfile: `vulnerable` names that have advisories (skewed towards the packages with
 * more of them, as popular packages have more) and the rest new names without any.
 */
function pickNames(eco, count, vulnerable, model, r) {
  const withAdvisories = model.pools[eco].filter((n) => model.byPackage.has(`${eco}\0${n}`));
  const names = [];
  const used = new Set();
  while (names.length < Math.min(vulnerable, withAdvisories.length)) {
    const name = withAdvisories[Math.floor(withAdvisories.length * r.next() ** 1.5)];
    if (used.has(name)) continue;
    used.add(name);
    names.push({ name, vulnerable: true });
  }
  while (names.length < count) {
    const name = packageName(eco, r);
    if (model.taken.has(name) || used.has(name)) continue;
    used.add(name);
    names.push({ name, vulnerable: false });
  }
  // Interleave: a shuffle (Fisher-Yates), so vulnerable names are not all first.
  for (let i = names.length - 1; i > 0; i--) {
    const j = r.int(0, i);
    [names[i], names[j]] = [names[j], names[i]];
  }
  return names;
}

/** A pinned release: one of the package's releases, recent ones likelier (its index too, for the expected findings). */
function pin(eco, name, r, avoid) {
  const list = releases(eco, name);
  // Lockfiles lean to recent releases: the index is skewed towards the newest.
  const pick = () => list.length - 1 - Math.floor(list.length * r.next() ** 2);
  let k = pick();
  if (avoid !== undefined && list.length > 1) while (k === avoid) k = pick();
  return { version: list[k], index: k };
}

function npmLock(names, nested, r, pins) {
  const top = names.map(({ name }) => ({ name, ...pin('npm', name, r), deps: {} }));
  const directCount = Math.min(top.length, Math.max(1, Math.round(top.length / 60)));
  const rootDeps = {};
  top.slice(0, directCount).forEach((p) => {
    rootDeps[p.name] = `^${p.version}`;
  });
  for (let i = directCount; i < top.length; i++) {
    const parent = top[r.int(0, i - 1)];
    parent.deps[top[i].name] = r.chance(0.7) ? `^${top[i].version}` : `~${top[i].version}`;
  }
  const entries = new Map();
  for (const p of top) entries.set(`node_modules/${p.name}`, p);
  // Nested duplicates: another version of a top-level package under a parent that needs it.
  let added = 0;
  for (let tries = 0; added < nested && tries < nested * 20; tries++) {
    const child = top[r.int(0, top.length - 1)];
    const parent = top[r.int(0, top.length - 1)];
    if (parent === child) continue;
    const key = `node_modules/${parent.name}/node_modules/${child.name}`;
    if (entries.has(key)) continue;
    const other = pin('npm', child.name, r, child.index);
    if (other.version === child.version) continue;
    entries.set(key, { name: child.name, ...other, deps: {} });
    parent.deps[child.name] = other.version;
    added++;
  }
  const packages = {
    '': { name: 'bench-frontend', version: '1.0.0', license: 'UNLICENSED', dependencies: rootDeps },
  };
  const keys = [...entries.keys()].sort();
  for (const key of keys) {
    const p = entries.get(key);
    const base = p.name.replace(/^@[^/]+\//, '');
    const entry = {
      version: p.version,
      resolved: `https://registry.npmjs.org/${p.name}/-/${base}-${p.version}.tgz`,
      integrity: `sha512-${b64(r, 64)}`,
    };
    if (Object.keys(p.deps).length > 0) {
      entry.dependencies = Object.fromEntries(Object.entries(p.deps).sort(([a], [b]) => (a < b ? -1 : 1)));
    }
    if (r.chance(0.08)) entry.engines = { node: `>=${r.pick([8, 10, 12, 14, 16, 18])}` };
    if (r.chance(0.03)) entry.bin = { [base]: 'bin/cli.js' };
    entry.license = r.pick(['MIT', 'MIT', 'MIT', 'ISC', 'Apache-2.0', 'BSD-3-Clause']);
    if (r.chance(0.05)) entry.funding = { url: `https://github.com/sponsors/${base}` };
    packages[key] = entry;
    pins.push({ eco: 'npm', name: p.name, version: p.version, index: p.index });
  }
  const lock = { name: 'bench-frontend', version: '1.0.0', lockfileVersion: 3, requires: true, packages };
  const manifest = {
    name: 'bench-frontend',
    version: '1.0.0',
    private: true,
    license: 'UNLICENSED',
    dependencies: rootDeps,
  };
  return {
    lock: `${JSON.stringify(lock, null, 2)}\n`,
    manifest: `${JSON.stringify(manifest, null, 2)}\n`,
    count: keys.length,
  };
}

function requirementsTxt(names, r, pins) {
  const rows = names.map(({ name }) => ({ name, display: pypiDisplay(name, r), ...pin('PyPI', name, r) }));
  rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out = [
    '#',
    '# This file is autogenerated by pip-compile with Python 3.11',
    '# by the following command:',
    '#',
    '#    pip-compile --generate-hashes --output-file=requirements.txt requirements.in',
    '#',
  ];
  rows.forEach((row, i) => {
    out.push(`${row.display}==${row.version} \\`);
    const hashes = r.int(1, 3);
    for (let h = 0; h < hashes; h++)
      out.push(`    --hash=sha256:${hex(r, 64)}${h === hashes - 1 ? '' : ' \\'}`);
    if (i < 40 || r.chance(0.1)) out.push('    # via -r requirements.in');
    else {
      out.push('    # via');
      const parents = r.int(1, 3);
      for (let p = 0; p < parents; p++)
        out.push(`    #   ${rows[r.int(0, rows.length - 1)].display.toLowerCase()}`);
    }
    pins.push({ eco: 'PyPI', name: row.name, version: row.version, index: row.index });
  });
  return { text: `${out.join('\n')}\n`, count: rows.length };
}

function goMod(names, r, pins) {
  const rows = names.map(({ name, vulnerable }) => {
    // Modules without advisories are now and then pinned at a pseudo-version, as untagged modules are.
    if (!vulnerable && !/\/v\d+$/.test(name) && r.chance(0.1))
      return { name, version: goPseudo(r), index: -1 };
    return { name, ...pin('Go', name, r) };
  });
  const directCount = Math.max(1, Math.round(rows.length / 12));
  const direct = rows.slice(0, directCount).sort((a, b) => (a.name < b.name ? -1 : 1));
  const indirect = rows.slice(directCount).sort((a, b) => (a.name < b.name ? -1 : 1));
  const lines = [
    'module github.com/plumbline-bench/gateway',
    '',
    'go 1.22.0',
    '',
    'toolchain go1.22.5',
    '',
    'require (',
  ];
  for (const row of direct) lines.push(`\t${row.name} v${row.version}`);
  lines.push(')', '', 'require (');
  for (const row of indirect) lines.push(`\t${row.name} v${row.version} // indirect`);
  lines.push(')', '');
  const sum = [];
  for (const row of [...direct, ...indirect].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    sum.push(`${row.name} v${row.version} h1:${b64(r, 32)}`);
    sum.push(`${row.name} v${row.version}/go.mod h1:${b64(r, 32)}`);
    pins.push({ eco: 'Go', name: row.name, version: row.version, index: row.index });
  }
  return { mod: lines.join('\n'), sum: `${sum.join('\n')}\n`, count: rows.length };
}

function cargoLock(names, duplicates, r, pins) {
  const crates = names.map(({ name }) => ({ name, ...pin('crates.io', name, r), deps: [] }));
  // A few crates twice, at two versions (as Cargo.lock often has: syn 1 and syn 2).
  const extra = [];
  for (let tries = 0; extra.length < duplicates && tries < duplicates * 20; tries++) {
    const c = crates[r.int(0, crates.length - 1)];
    if (extra.some((e) => e.name === c.name)) continue;
    const other = pin('crates.io', c.name, r, c.index);
    if (other.version === c.version) continue;
    extra.push({ name: c.name, ...other, deps: [] });
  }
  const all = [...crates, ...extra];
  const twice = new Set(extra.map((e) => e.name));
  const ref = (c) => (twice.has(c.name) ? `${c.name} ${c.version}` : c.name);
  const directCount = Math.max(1, Math.round(crates.length / 25));
  const root = { name: 'bench-native', version: '0.1.0', deps: crates.slice(0, directCount).map(ref) };
  // Every other crate is a dependency of an earlier one, so the whole lock is reachable from the root.
  const order = [...crates.slice(directCount), ...extra];
  const placed = crates.slice(0, directCount);
  for (const c of order) {
    const parent = placed[r.int(0, placed.length - 1)];
    parent.deps.push(ref(c));
    placed.push(c);
  }
  const sorted = [root, ...all].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : 1,
  );
  const out = [
    '# This file is automatically @generated by Cargo.',
    '# It is not intended for manual editing.',
    'version = 3',
    '',
  ];
  for (const c of sorted) {
    out.push('[[package]]', `name = "${c.name}"`, `version = "${c.version}"`);
    if (c !== root) {
      out.push(
        'source = "registry+https://github.com/rust-lang/crates.io-index"',
        `checksum = "${hex(r, 64)}"`,
      );
      pins.push({ eco: 'crates.io', name: c.name, version: c.version, index: c.index });
    }
    if (c.deps.length > 0) out.push('dependencies = [', ...[...c.deps].sort().map((d) => ` "${d}",`), ']');
    out.push('');
  }
  const toml = [
    '[package]',
    'name = "bench-native"',
    'version = "0.1.0"',
    'edition = "2021"',
    '',
    '[dependencies]',
    ...crates.slice(0, directCount).map((c) => `${c.name} = "${c.version}"`),
    '',
  ];
  return { lock: out.join('\n'), toml: toml.join('\n'), count: all.length };
}

// ------------------------------------------------------------------------------------------ inputs

/**
 * Builds (or reuses) the generated advisories and the repository. Returns
 * { advisories: { dir, zips, documents, byEcosystem }, repo: { dir, packages, byLockfile, withAdvisories,
 *   affectedPackages, expectedFindings, packagesFile } }. Throws when the shared zips are missing.
 */
export function buildDepsInputs({ workDir, osvDir, advisories, packages }) {
  const tKey = templatesKey(osvDir);
  const advDir = join(workDir, `deps-advisories-${advisories}`);
  const advKey = `${ADVISORIES_FORMAT}-${advisories}-${tKey.slice(0, 16)}`;
  const repoDir = join(workDir, `deps-repo-${packages}pkgs-${advisories}adv`);
  const repoKey = `${REPO_FORMAT}-${packages}-${advKey}`;
  const advManifestPath = `${advDir}.bench-manifest.json`;
  const repoManifestPath = `${repoDir}.bench-manifest.json`;
  const cached = (path, key) => {
    try {
      const m = JSON.parse(readFileSync(path, 'utf8'));
      return m.key === key ? m : undefined;
    } catch {
      return undefined;
    }
  };
  let advManifest = cached(advManifestPath, advKey);
  let repoManifest = cached(repoManifestPath, repoKey);
  const advReady = advManifest?.zips.every((z) => existsSync(join(advDir, z))) === true;
  if (advReady && repoManifest !== undefined) {
    log(`deps: reusing ${advDir} (${advManifest.documents} documents) and ${repoDir}`);
    return { advisories: { dir: advDir, ...advManifest }, repo: { dir: repoDir, ...repoManifest } };
  }
  log('deps: reading the template documents from the shared OSV exports');
  const templates = loadTemplates(osvDir);
  log(`deps: ${templates.all.length} templates; building the model of ${advisories} advisories`);
  const model = buildModel({ templates, advisories });

  if (!advReady) {
    log(`deps: writing ${advisories} OSV documents to ${advDir} (one zip per ecosystem; slow, cached)`);
    rmSync(advDir, { recursive: true, force: true });
    ensureDir(advDir);
    const zips = [];
    const byEcosystem = {};
    for (const [eco] of ECOSYSTEM_SHARE) {
      const docs = [];
      for (const v of model.vulns) if (v.eco === eco) docs.push(...materialize(v));
      const file = `bench-${eco}.zip`;
      writeZip(join(advDir, file), docs);
      zips.push(file);
      byEcosystem[eco] = docs.length;
      log(`deps: ${file}: ${docs.length} documents`);
    }
    const documents = Object.values(byEcosystem).reduce((a, b) => a + b, 0);
    advManifest = {
      key: advKey,
      documents,
      byEcosystem,
      zips,
      vulnerabilities: model.vulns.length,
      twins: model.vulns.filter((v) => v.ids.length > 1).length,
      withdrawn: model.vulns.filter((v) => v.withdrawn).reduce((n, v) => n + v.ids.length, 0),
      names: Object.fromEntries(Object.entries(model.pools).map(([e, p]) => [e, p.length])),
    };
    writeFileSync(advManifestPath, JSON.stringify(advManifest, null, 2));
  }

  log(`deps: writing the repository ${repoDir}`);
  const r = prng(20260402);
  rmSync(repoDir, { recursive: true, force: true });
  const pins = [];
  const share = (eco) => Math.round(packages * REPO_SHARE[eco]);
  const vuln = (n) => Math.round(n * VULNERABLE_NAME_SHARE);
  const byLockfile = {};
  {
    const total = packages - share('PyPI') - share('Go') - share('crates.io');
    const nested = Math.round(total * 0.04);
    const names = pickNames('npm', total - nested, vuln(total), model, r);
    const npm = npmLock(names, nested, r, pins);
    ensureDir(join(repoDir, 'frontend'));
    writeFileSync(join(repoDir, 'frontend', 'package.json'), npm.manifest);
    writeFileSync(join(repoDir, 'frontend', 'package-lock.json'), npm.lock);
    byLockfile['frontend/package-lock.json'] = npm.count;
  }
  {
    const names = pickNames('PyPI', share('PyPI'), vuln(share('PyPI')), model, r);
    const req = requirementsTxt(names, r, pins);
    ensureDir(join(repoDir, 'backend'));
    writeFileSync(
      join(repoDir, 'backend', 'requirements.in'),
      `${names
        .slice(0, 40)
        .map((n) => n.name)
        .sort()
        .join('\n')}\n`,
    );
    writeFileSync(join(repoDir, 'backend', 'requirements.txt'), req.text);
    byLockfile['backend/requirements.txt'] = req.count;
  }
  {
    const names = pickNames('Go', share('Go'), vuln(share('Go')), model, r);
    const go = goMod(names, r, pins);
    ensureDir(join(repoDir, 'services', 'gateway'));
    writeFileSync(join(repoDir, 'services', 'gateway', 'go.mod'), go.mod);
    writeFileSync(join(repoDir, 'services', 'gateway', 'go.sum'), go.sum);
    byLockfile['services/gateway/go.mod'] = go.count;
  }
  {
    const total = share('crates.io');
    const duplicates = Math.round(total * 0.03);
    const names = pickNames('crates.io', total - duplicates, vuln(total), model, r);
    const cargo = cargoLock(names, duplicates, r, pins);
    ensureDir(join(repoDir, 'native'));
    writeFileSync(join(repoDir, 'native', 'Cargo.toml'), cargo.toml);
    writeFileSync(join(repoDir, 'native', 'Cargo.lock'), cargo.lock);
    byLockfile['native/Cargo.lock'] = cargo.count;
  }

  // The expected findings, by release index: one per (package, vulnerability) — twins are one vulnerability.
  let withAdvisories = 0;
  let affectedPackages = 0;
  let expectedFindings = 0;
  const expectedByEcosystem = {};
  for (const p of pins) {
    const list = model.byPackage.get(`${p.eco}\0${p.name}`);
    if (list === undefined) continue;
    withAdvisories++;
    let hits = 0;
    for (const index of list) {
      const v = model.vulns[index];
      if (v.withdrawn || p.index < 0) continue;
      const entry = v.affected.find((a) => a.name === p.name);
      if (entry !== undefined && entryAffects(p.index, entry)) hits++;
    }
    if (hits > 0) affectedPackages++;
    expectedFindings += hits;
    expectedByEcosystem[p.eco] = (expectedByEcosystem[p.eco] ?? 0) + hits;
  }
  // The package list, for the bare-SQLite reference run.
  const packagesFile = `${repoDir}.packages.tsv`;
  writeFileSync(packagesFile, `${pins.map((p) => `${p.eco}\t${p.name}\t${p.version}`).join('\n')}\n`);
  repoManifest = {
    key: repoKey,
    packages: pins.length,
    byLockfile,
    withAdvisories,
    affectedPackages,
    expectedFindings,
    expectedByEcosystem,
    packagesFile,
  };
  writeFileSync(repoManifestPath, JSON.stringify(repoManifest, null, 2));
  log(
    `deps: ${pins.length} packages, ${withAdvisories} with advisories, ${affectedPackages} affected, ${expectedFindings} findings expected`,
  );
  return { advisories: { dir: advDir, ...advManifest }, repo: { dir: repoDir, ...repoManifest } };
}
