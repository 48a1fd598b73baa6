// The history corpus: a synthetic but realistic Git repository written with `git fast-import`.
//
// A small TypeScript/Python project (about 150 files) evolves over N commits: each commit edits one to four
// files (a few hot files get most edits), replacing, inserting and deleting code-like lines; files are added
// now and then and occasionally deleted. A few fake secrets (random, well-formed values of common formats,
// built at run time so this source contains none) are planted in old commits and removed some commits
// later, so HEAD is clean and only a history scan can find them. Everything comes from a seeded PRNG: the
// same parameters give the same repository (same commit ids).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, log, prng, runOk } from './util.mjs';

// Bump when the generator changes, so cached repositories are rebuilt.
const FORMAT = 4;

const VERBS = [
  'load',
  'fetch',
  'parse',
  'build',
  'resolve',
  'update',
  'create',
  'remove',
  'sync',
  'render',
  'validate',
  'normalize',
  'merge',
  'compute',
  'format',
  'collect',
  'apply',
  'dispatch',
  'schedule',
  'flush',
];
const NOUNS = [
  'user',
  'order',
  'invoice',
  'session',
  'account',
  'payment',
  'report',
  'widget',
  'project',
  'message',
  'channel',
  'record',
  'entry',
  'profile',
  'segment',
  'bucket',
  'route',
  'event',
  'metric',
  'job',
];
const FIELDS = [
  'id',
  'name',
  'status',
  'createdAt',
  'updatedAt',
  'count',
  'total',
  'items',
  'owner',
  'region',
  'priority',
  'labels',
  'version',
  'retries',
  'timeoutMs',
  'limit',
  'offset',
  'score',
  'enabled',
  'tags',
];
const TYPES = [
  'string',
  'number',
  'boolean',
  'Date',
  'unknown',
  'Record<string, string>',
  'string[]',
  'number[]',
];
const MODULES = [
  './util.js',
  '../core/http.js',
  '../models/types.js',
  './cache.js',
  '../services/store.js',
  'node:path',
  'node:fs/promises',
  'node:events',
  '../config/index.js',
  './logger.js',
];
const DIRS = ['src/api', 'src/core', 'src/models', 'src/services', 'src/util', 'src/ui', 'src/jobs', 'lib'];
const AUTHORS = [
  ['Ada Moreno', 'ada.moreno@example.com'],
  ['Ben Okafor', 'ben.okafor@example.com'],
  ['Chen Wei', 'chen.wei@example.com'],
  ['Dana Kowalski', 'dana.k@example.com'],
  ['Eli Haddad', 'eli.haddad@example.com'],
  ['Fatima Noor', 'fatima.noor@example.com'],
  ['Gus Lindqvist', 'gus.l@example.com'],
  ['Hana Sato', 'hana.sato@example.com'],
  ['Ivan Petrov', 'ivan.petrov@example.com'],
  ['Jo Mensah', 'jo.mensah@example.com'],
];
const MSG = [
  'fix({scope}): handle empty {noun} list',
  'feat({scope}): add {verb}{Noun}',
  'refactor: simplify {noun} {verb}',
  'chore: tidy {scope} imports',
  'fix: off-by-one in {noun} pagination',
  'perf({scope}): cache {noun} lookups',
  'test: cover {verb}{Noun} edge cases',
  'docs: explain {noun} lifecycle',
  'feat: support {field} on {noun}',
  'fix({scope}): retry {verb} on timeout',
  'refactor({scope}): extract {verb}{Noun} helper',
];

const cap = (s) => s[0].toUpperCase() + s.slice(1);

function makeLines(r) {
  const verb = () => r.pick(VERBS);
  const noun = () => r.pick(NOUNS);
  const field = () => r.pick(FIELDS);
  const statement = (indent) => {
    const n = noun();
    const f = field();
    const templates = [
      () => `const ${n}${cap(f)} = ${n}.${f} ?? ${r.int(0, 100)};`,
      () => `const ${n} = await this.${noun()}Service.${verb()}${cap(n)}(${noun()}.${f});`,
      () => `if (!${n}.${f}) return undefined;`,
      () => `logger.debug('${verb()} ${n}', { ${f}: ${n}.${f}, attempt });`,
      () => `${n}.${f} = ${r.pick([`${r.int(1, 5000)}`, `'${r.pick(NOUNS)}'`, 'null', 'Date.now()', `[]`])};`,
      () => `result.push({ ${f}: ${n}.${f}, ${field()}: ${noun()}.${field()} });`,
      () => `total += ${n}.${f} * ${r.int(2, 64)};`,
      () => `await ${verb()}${cap(n)}(${n}, { ${f}: ${r.int(1, 100)} });`,
      () => `// ${cap(verb())} the ${n} before ${verb()}ing the ${noun()}; see #${r.int(10, 2400)}.`,
      () => `for (const item of ${n}.${f}) ${verb()}${cap(noun())}(item);`,
      () => `throw new Error(\`cannot ${verb()} ${n} \${${n}.${f}}\`);`,
      () => `const ${verb()}ed = ${n}s.filter((x) => x.${f} > ${r.int(0, 9)}).map((x) => x.${field()});`,
      () => `return { ...${n}, ${f}: ${r.int(0, 999)}, ${field()}: new Date().toISOString() };`,
    ];
    return `${' '.repeat(indent)}${r.pick(templates)()}`;
  };
  const fn = () => {
    const v = verb();
    const n = noun();
    const out = [];
    if (r.chance(0.4)) out.push(`/** ${cap(v)}s a ${n} and returns the ${r.pick(FIELDS)} it ends with. */`);
    out.push(
      `export ${r.chance(0.5) ? 'async ' : ''}function ${v}${cap(n)}(${n}: ${cap(n)}, ${field()}: ${r.pick(TYPES)}) {`,
    );
    const body = r.int(3, 14);
    for (let i = 0; i < body; i++) {
      if (r.chance(0.12)) {
        out.push(`  if (${n}.${field()} ${r.pick(['===', '!==', '>', '<'])} ${r.int(0, 50)}) {`);
        out.push(statement(4), statement(4));
        out.push('  }');
      } else {
        out.push(statement(2));
      }
    }
    out.push('}', '');
    return out;
  };
  const pyFn = () => {
    const out = [`def ${verb()}_${noun()}(${noun()}, ${field().toLowerCase()}=None):`];
    if (r.chance(0.5)) out.push(`    """${cap(verb())} the ${noun()} records."""`);
    const body = r.int(2, 10);
    for (let i = 0; i < body; i++) {
      const n = noun();
      out.push(
        `    ${r.pick([
          `${n}_${field().toLowerCase()} = ${n}.get("${field()}", ${r.int(0, 99)})`,
          `if not ${n}: return None`,
          `logger.info("${verb()} %s", ${n}.id)`,
          `results.append({"${field()}": ${n}.${field().toLowerCase()}})`,
          `total += len(${n}.items) * ${r.int(1, 9)}`,
        ])}`,
      );
    }
    out.push(`    return ${r.pick(['results', 'total', 'None', `${noun()}`])}`, '');
    return out;
  };
  return { statement, fn, pyFn, noun, verb, field };
}

function newFile(r, g, path) {
  const lines = [];
  if (path.endsWith('.py')) {
    lines.push('import logging', 'import os', '', 'logger = logging.getLogger(__name__)', '');
    const n = r.int(3, 18);
    for (let i = 0; i < n; i++) lines.push(...g.pyFn());
  } else if (path.endsWith('.md')) {
    lines.push(`# ${cap(g.noun())} ${g.verb()}ing`, '');
    const n = r.int(6, 40);
    for (let i = 0; i < n; i++) {
      lines.push(
        `The ${g.noun()} service ${g.verb()}s each ${g.noun()} before it ${g.verb()}s the ${g.field()}.`,
      );
      if (r.chance(0.2)) lines.push('');
    }
  } else if (path.endsWith('.json')) {
    lines.push('{');
    const n = r.int(5, 40);
    for (let i = 0; i < n; i++) lines.push(`  "${g.noun()}${cap(g.field())}${i}": ${r.int(0, 9000)},`);
    lines.push('  "version": 1', '}');
  } else {
    const imports = r.int(2, 6);
    for (let i = 0; i < imports; i++) {
      lines.push(`import { ${g.verb()}${cap(g.noun())} } from '${r.pick(MODULES)}';`);
    }
    lines.push('');
    const n = r.int(3, 22);
    for (let i = 0; i < n; i++) lines.push(...g.fn());
  }
  return { path, lines };
}

function crc32(text) {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) {
    crc ^= text.charCodeAt(i);
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const B64 = `${ALNUM}+/`;

function base62(n, width) {
  let s = '';
  let v = n;
  while (v > 0) {
    s = BASE62[v % 62] + s;
    v = Math.floor(v / 62);
  }
  return s.padStart(width, '0');
}

/**
 * The fake secrets, each as the line(s) to insert and the kind of file they go in. Prefixes are assembled
 * from pieces so that this file itself contains nothing a scanner would flag.
 */
function plantKinds(r) {
  const j = (...parts) => parts.join('');
  return [
    {
      kind: 'aws-access-key-id',
      ext: '.ts',
      lines: () => [`  accessKeyId: '${j('AK', 'IA')}${r.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}',`],
    },
    {
      kind: 'github-pat',
      ext: '.ts',
      lines: () => {
        const body = r.chars(ALNUM, 30);
        return [`const GITHUB_TOKEN = '${j('gh', 'p_')}${body}${base62(crc32(body), 6)}';`];
      },
    },
    {
      kind: 'slack-bot-token',
      ext: '.ts',
      lines: () => [
        `const slackToken = "${j('xo', 'xb-')}${r.chars('0123456789', 12)}-${r.chars('0123456789', 13)}-${r.chars(ALNUM, 24)}";`,
      ],
    },
    {
      kind: 'stripe-secret-key',
      ext: '.py',
      lines: () => [`STRIPE_API_KEY = "${j('sk', '_live_')}${r.chars(ALNUM, 24)}"`],
    },
    {
      kind: 'google-api-key',
      ext: '.ts',
      lines: () => [`  mapsKey: '${j('AI', 'za')}${r.chars(`${ALNUM}_-`, 35)}',`],
    },
    {
      kind: 'private-key',
      ext: '.pem',
      lines: () => {
        const out = [j('-----BEGIN RSA ', 'PRIVATE KEY-----')];
        for (let i = 0; i < 25; i++) out.push(r.chars(B64, 64));
        out.push(`${r.chars(B64, 40)}==`, j('-----END RSA ', 'PRIVATE KEY-----'));
        return out;
      },
    },
    {
      kind: 'generic-password',
      ext: '.ts',
      lines: () => [`  dbPassword: "${r.chars(ALNUM, 6)}!${r.chars(ALNUM, 5)}#${r.chars(ALNUM, 7)}",`],
    },
  ];
}

function pickEditable(r, files, locked) {
  // 15% of files are hot and get most of the edits.
  for (let attempt = 0; attempt < 20; attempt++) {
    const hot = r.chance(0.7);
    const span = hot ? Math.max(1, Math.floor(files.length * 0.15)) : files.length;
    const file = files[Math.floor(r.next() * span)];
    if (!locked.has(file.path) && !file.path.endsWith('.pem')) return file;
  }
  return undefined;
}

function editFile(r, g, file) {
  const isPy = file.path.endsWith('.py');
  const isText = file.path.endsWith('.md') || file.path.endsWith('.json');
  const hunks = r.int(1, 3);
  for (let h = 0; h < hunks; h++) {
    const lines = file.lines;
    const at = r.int(Math.min(3, lines.length), lines.length);
    const op =
      lines.length > 700 ? 'delete' : r.pick(['replace', 'replace', 'insert', 'insert', 'block', 'delete']);
    const fresh = () =>
      isPy ? `    ${g.noun()}_${g.field().toLowerCase()} = ${r.int(0, 99)}` : g.statement(2);
    if (isText) {
      const line = file.path.endsWith('.md')
        ? `The ${g.noun()} ${g.verb()}s the ${g.field()} of each ${g.noun()}.`
        : `  "${g.noun()}${cap(g.field())}${r.int(0, 999)}": ${r.int(0, 9000)},`;
      if (file.path.endsWith('.json') && (at === 0 || at >= lines.length - 1)) continue;
      lines.splice(at, op === 'delete' ? 1 : 0, line);
    } else if (op === 'replace' && at < lines.length && lines[at].startsWith('  ')) {
      lines[at] = fresh();
    } else if (op === 'insert') {
      const n = r.int(1, 6);
      const add = [];
      for (let i = 0; i < n; i++) add.push(fresh());
      // Insert inside a body (after an indented line) to keep the shape plausible.
      let pos = at;
      while (pos < lines.length && !(lines[pos - 1] ?? '').startsWith('  ')) pos++;
      lines.splice(pos, 0, ...add);
    } else if (op === 'block') {
      let pos = at;
      while (pos < lines.length && lines[pos - 1] !== '') pos++;
      lines.splice(pos, 0, ...(isPy ? g.pyFn() : g.fn()));
    } else if (op === 'delete') {
      let pos = at;
      while (pos < lines.length && !lines[pos].startsWith('  ')) pos++;
      let n = 0;
      while (n < 3 && pos + n < lines.length && lines[pos + n].startsWith('  ')) n++;
      if (n > 0) lines.splice(pos, n);
    }
  }
}

/** Writes the fast-import stream for the whole history to `sink` (a function taking a string). */
async function generate({ commits, seed }, sink) {
  const r = prng(seed);
  const g = makeLines(r);
  const files = [];
  const usedPaths = new Set();
  const freshPath = (ext) => {
    for (;;) {
      const dir =
        ext === '.py' ? 'scripts' : ext === '.md' ? 'docs' : ext === '.json' ? 'config' : r.pick(DIRS);
      const name =
        ext === '.py'
          ? `${g.verb()}_${g.noun()}s`
          : `${g.noun()}${r.pick(['Service', 'Store', 'Handler', 'Client', 'Utils', 'Controller', 'Mapper'])}`;
      const path = `${dir}/${name}${ext === '.ts' && r.chance(0.2) ? '.test' : ''}${ext}`;
      if (!usedPaths.has(path)) {
        usedPaths.add(path);
        return path;
      }
    }
  };
  const randomExt = () => r.pick(['.ts', '.ts', '.ts', '.ts', '.js', '.js', '.py', '.md', '.json']);
  for (let i = 0; i < 150; i++) files.push(newFile(r, g, freshPath(randomExt())));

  // Plants: spread over the oldest 40% of history, each removed 5-40 commits later.
  const kinds = plantKinds(r);
  const plantAt = new Map();
  kinds.forEach((kind, i) => {
    const at = Math.max(1, Math.floor(commits * (0.02 + (0.38 * i) / kinds.length)));
    plantAt.set(at, kind);
  });
  const removeAt = new Map();
  const locked = new Set();
  const planted = [];

  let time = 1546300800; // 2019-01-01T00:00:00Z
  const write = (s) => sink(s);
  const data = (s) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  for (let c = 1; c <= commits; c++) {
    time += r.int(300, 30000);
    const [name, email] = r.pick(AUTHORS);
    const changed = new Map();
    const deleted = [];
    let message;
    if (c === 1) {
      for (const f of files) changed.set(f.path, f);
      message = 'Initial import';
    } else if (plantAt.has(c)) {
      const kind = plantAt.get(c);
      const lines = kind.lines();
      let file;
      let line;
      if (kind.ext === '.pem') {
        file = { path: `deploy/certs/${g.noun()}-service.pem`, lines: [...lines, ''] };
        usedPaths.add(file.path);
        files.push(file);
        line = 1;
      } else {
        const eligible = files.filter(
          (f) =>
            f.path.endsWith(kind.ext) &&
            !f.path.includes('.test.') &&
            !locked.has(f.path) &&
            f.lines.length > 10,
        );
        file = r.pick(eligible);
        const at = Math.min(file.lines.length, r.int(5, 40));
        file.lines.splice(at, 0, ...lines);
        line = at + 1;
      }
      locked.add(file.path);
      changed.set(file.path, file);
      let removal = c + r.int(5, 40);
      while (plantAt.has(removal) || removeAt.has(removal)) removal++;
      removeAt.set(removal, { file, text: lines[0], count: lines.length });
      planted.push({ kind: kind.kind, path: file.path, line, mark: c });
      message = `feat(config): wire ${g.noun()} credentials for staging`;
    } else if (removeAt.has(c)) {
      const { file, text, count } = removeAt.get(c);
      if (file.path.endsWith('.pem')) {
        files.splice(files.indexOf(file), 1);
        deleted.push(file.path);
      } else {
        const at = file.lines.indexOf(text);
        file.lines.splice(
          at,
          count,
          file.path.endsWith('.py')
            ? 'STRIPE_API_KEY = os.environ["STRIPE_API_KEY"]'
            : '  // read from the environment now',
        );
        changed.set(file.path, file);
      }
      locked.delete(file.path);
      message = 'fix: stop committing credentials, read them from the environment';
    } else {
      const touched = r.int(1, 4);
      for (let t = 0; t < touched; t++) {
        const file = pickEditable(r, files, locked);
        if (file === undefined) continue;
        editFile(r, g, file);
        changed.set(file.path, file);
      }
      if (r.chance(1 / 40)) {
        const f = newFile(r, g, freshPath(randomExt()));
        files.push(f);
        changed.set(f.path, f);
      }
      if (r.chance(1 / 400) && files.length > 100) {
        const victim = files[files.length - 1 - r.int(0, 50)];
        if (!locked.has(victim.path)) {
          files.splice(files.indexOf(victim), 1);
          changed.delete(victim.path);
          deleted.push(victim.path);
        }
      }
      const scope = r.pick(['api', 'core', 'ui', 'jobs', 'store', 'auth']);
      message = r
        .pick(MSG)
        .replaceAll('{scope}', scope)
        .replaceAll('{noun}', g.noun())
        .replaceAll('{Noun}', cap(g.noun()))
        .replaceAll('{verb}', g.verb())
        .replaceAll('{field}', g.field());
    }
    let out = `commit refs/heads/main\nmark :${c}\n`;
    out += `author ${name} <${email}> ${time} +0000\ncommitter ${name} <${email}> ${time} +0000\n`;
    out += data(`${message}\n`);
    if (c > 1) out += `from :${c - 1}\n`;
    for (const path of deleted) out += `D ${path}\n`;
    for (const [path, file] of changed) out += `M 100644 inline ${path}\n${data(file.lines.join('\n'))}`;
    await write(out);
    if (c % 500 === 0) await write(`reset refs/tags/v0.${c / 500}.0\nfrom :${c}\n\n`);
    if (c === Math.floor(commits * 0.75)) await write(`reset refs/heads/release\nfrom :${c}\n\n`);
  }
  return { planted, files: files.length };
}

/**
 * Builds (or reuses) the history repository for `commits` commits under `workDir`.
 * Returns { dir, commits, planted: [{ kind, path, line, commit }], packBytes }.
 */
export async function buildHistoryRepo({ workDir, commits, seed = 20240601 }) {
  const dir = join(workDir, `history-${commits}c-s${seed}-f${FORMAT}`);
  const manifestPath = `${dir}.bench-manifest.json`;
  if (existsSync(manifestPath) && existsSync(join(dir, '.git'))) {
    try {
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      log(`history repo: reusing ${dir} (${manifest.commits} commits)`);
      return { dir, ...manifest };
    } catch {
      // rebuild
    }
  }
  log(`history repo: generating ${commits} commits in ${dir}`);
  rmSync(dir, { recursive: true, force: true });
  rmSync(manifestPath, { force: true });
  ensureDir(dir);
  // No user or system Git configuration: the same repository on every machine.
  const emptyConfig = join(workDir, 'empty.gitconfig');
  writeFileSync(emptyConfig, '');
  const gitEnv = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: emptyConfig };
  runOk('git', ['init', '-q', '-b', 'main', dir], { env: gitEnv });
  const marksFile = join(workDir, `history-${commits}c.marks`);
  const fi = spawn('git', ['fast-import', '--quiet', `--export-marks=${marksFile}`], {
    cwd: dir,
    env: gitEnv,
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  const exited = once(fi, 'close');
  const sink = async (s) => {
    if (!fi.stdin.write(s)) await once(fi.stdin, 'drain');
  };
  const started = Date.now();
  const { planted } = await generate({ commits, seed }, sink);
  fi.stdin.end();
  const [code] = await exited;
  if (code !== 0) throw new Error(`git fast-import exited ${code}`);
  const marks = new Map(
    readFileSync(marksFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const [mark, sha] = l.split(' ');
        return [Number(mark.slice(1)), sha];
      }),
  );
  rmSync(marksFile, { force: true });
  // fast-import's packs are loosely deltified; repack as a long-lived repository would be.
  runOk('git', ['repack', '-a', '-d', '-f', '-q', '--window=50', '--depth=50'], { cwd: dir, env: gitEnv });
  runOk('git', ['gc', '--quiet'], { cwd: dir, env: gitEnv });
  runOk('git', ['checkout', '-q', '-f', 'main'], { cwd: dir, env: gitEnv });
  const count = Number(runOk('git', ['rev-list', '--all', '--count'], { cwd: dir }).trim());
  const packKb = runOk('git', ['count-objects', '-v'], { cwd: dir }).match(/size-pack: (\d+)/)?.[1];
  const manifest = {
    commits: count,
    seed,
    packBytes: Number(packKb ?? 0) * 1024,
    planted: planted.map((p) => ({ kind: p.kind, path: p.path, line: p.line, commit: marks.get(p.mark) })),
  };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  log(
    `history repo: ${count} commits, pack ${(manifest.packBytes / 1e6).toFixed(1)} MB, ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return { dir, ...manifest };
}
