// Secret references resolved for the controller: from SOPS files in a real folder and from Vault (the
// stand-in server of vault.test-helper.ts, as no Vault can run here); the digest changes exactly when a
// secret does; a planted secret value never appears in any error message, hint or serialised object. Also
// the App schema's secretRef form and .sops.yaml creation rules.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/parse.js';
import { ConfigError } from '../errors.js';
import { type AgeIdentities, cliIdentities, generateKeyPair, loadIdentity } from './age.js';
import { creationRuleFor } from './config.js';
import { encryptDocument } from './document.js';
import { SecretsError } from './errors.js';
import { createSecretResolver, type EnvValue, envValuesOf, hasSecretRefs } from './resolver.js';
import { type FakeVault, startFakeVault } from './vault.test-helper.js';

const PLANTED = `Pl4nted-${randomBytes(9).toString('hex')}`;
let dir: string;
let repo: string;
let identityFile: string;
let identity: AgeIdentities;
let recipient: string;
let vault: FakeVault;

async function writeSecrets(name: string, text: string): Promise<void> {
  const out = await encryptDocument(Buffer.from(text), {
    file: name,
    format: name.endsWith('.env') ? 'dotenv' : name.endsWith('.json') ? 'json' : 'yaml',
    recipients: [recipient],
  });
  mkdirSync(join(repo, name, '..'), { recursive: true });
  writeFileSync(join(repo, name), out);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'plumbline-resolver-'));
  repo = join(dir, 'repo');
  mkdirSync(repo);
  const pair = await generateKeyPair();
  recipient = pair.recipient;
  identityFile = join(dir, 'controller.agekey');
  writeFileSync(identityFile, pair.identityFile, { mode: 0o600 });
  identity = await loadIdentity({ file: identityFile });
  await writeSecrets(
    'secrets/web.sops.yaml',
    `db_password: ${PLANTED}\nport: 5432\nratio: 0.5\ntls: true\nnested:\n    token: tok-${PLANTED}\nlist: [a]\nnothing: null\n`,
  );
  await writeSecrets('secrets/web.env', `API_KEY=env-${PLANTED}\n`);
  vault = await startFakeVault();
  vault.tokens.set('hvs.resolver', ['secret/']);
  vault.secrets.set('secret/data/web', { data: { password: `vault-${PLANTED}` }, version: 1 });
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await vault.close();
});

async function failure(run: () => Promise<unknown>): Promise<SecretsError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof SecretsError) return error;
    throw error;
  }
  throw new Error('expected a SecretsError');
}

function expectClean(e: SecretsError): void {
  expect(`${e.message}\n${e.hint ?? ''}\n${e.stack ?? ''}\n${JSON.stringify(e)}`).not.toContain(PLANTED);
}

const ref = (file: string, key: string): EnvValue => ({ secretRef: { file, key } });

describe('resolveEnv', () => {
  it('resolves file and Vault references next to plain values, and names what came from secrets', async () => {
    const resolver = createSecretResolver({
      identity,
      vault: { address: vault.address, token: 'hvs.resolver' },
    });
    const env: Record<string, EnvValue> = {
      GREETING: 'hello',
      DB_PASSWORD: ref('secrets/web.sops.yaml', 'db_password'),
      PORT: ref('secrets/web.sops.yaml', 'port'),
      RATIO: ref('./secrets/web.sops.yaml', 'ratio'),
      TLS: ref('secrets/web.sops.yaml', 'tls'),
      TOKEN: ref('secrets/web.sops.yaml', 'nested.token'),
      API_KEY: ref('secrets/web.env', 'API_KEY'),
      VAULT_PW: { secretRef: { vault: { path: 'secret/data/web', key: 'password' } } },
    };
    expect(hasSecretRefs(env)).toBe(true);
    const resolved = await resolver.resolveEnv(env, { repoDir: repo, app: 'web' });
    expect(resolved.env).toEqual({
      API_KEY: `env-${PLANTED}`,
      DB_PASSWORD: PLANTED,
      GREETING: 'hello',
      PORT: '5432',
      RATIO: '0.5',
      TLS: 'true',
      TOKEN: `tok-${PLANTED}`,
      VAULT_PW: `vault-${PLANTED}`,
    });
    expect(resolved.secretNames).toEqual([
      'API_KEY',
      'DB_PASSWORD',
      'PORT',
      'RATIO',
      'TLS',
      'TOKEN',
      'VAULT_PW',
    ]);
    expect(resolved.digest).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(resolved.digest).not.toContain(PLANTED);
  });

  it('gives no digest and needs no identity when nothing is a reference', async () => {
    const resolved = await createSecretResolver().resolveEnv({ A: 'b' }, { repoDir: repo });
    expect(resolved).toEqual({ env: { A: 'b' }, digest: '', secretNames: [] });
    expect(hasSecretRefs({ A: 'b' })).toBe(false);
  });

  it('merges the schema split (env + secretRefs) back', () => {
    expect(envValuesOf({ env: { A: 'b' }, secretRefs: { C: { file: 'f', key: 'k' } } })).toEqual({
      A: 'b',
      C: { secretRef: { file: 'f', key: 'k' } },
    });
    expect(envValuesOf({ env: { A: 'b' } })).toEqual({ A: 'b' });
  });
});

describe('the secret digest', () => {
  it('is stable for the same secrets, across resolvers with the same identity, even after re-encryption', async () => {
    const env = { DB: ref('secrets/web.sops.yaml', 'db_password') };
    const a = await createSecretResolver({ identity }).secretDigest(env, { repoDir: repo });
    const b = await createSecretResolver({
      identity: await loadIdentity({ file: identityFile }),
    }).secretDigest(env, {
      repoDir: repo,
    });
    expect(a).toBe(b);
    // Re-encrypting the same values (new data key, new ciphertext) does not redeploy anything.
    const copy = join(dir, 'copy');
    mkdirSync(copy);
    const out = await encryptDocument(Buffer.from(`db_password: ${PLANTED}\n`), {
      file: 'x.yaml',
      format: 'yaml',
      recipients: [recipient],
    });
    mkdirSync(join(copy, 'secrets'));
    writeFileSync(join(copy, 'secrets/web.sops.yaml'), out);
    expect(await createSecretResolver({ identity }).secretDigest(env, { repoDir: copy })).toBe(a);
    // A changed secret changes it.
    writeFileSync(
      join(copy, 'secrets/web.sops.yaml'),
      await encryptDocument(Buffer.from(`db_password: ${PLANTED}!\n`), {
        file: 'x.yaml',
        format: 'yaml',
        recipients: [recipient],
      }),
    );
    expect(await createSecretResolver({ identity }).secretDigest(env, { repoDir: copy })).not.toBe(a);
  });

  it('changes when a Vault secret changes, and with the variable it feeds', async () => {
    const resolver = createSecretResolver({
      vault: { address: vault.address, token: 'hvs.resolver' },
      digestKey: Buffer.alloc(32, 1),
    });
    const env = { PW: { secretRef: { vault: { path: 'secret/data/web', key: 'password' } } } };
    const before = await resolver.secretDigest(env);
    vault.secrets.set('secret/data/web', { data: { password: `vault-${PLANTED}-2` }, version: 2 });
    const after = await resolver.secretDigest(env);
    vault.secrets.set('secret/data/web', { data: { password: `vault-${PLANTED}` }, version: 3 });
    expect(after).not.toBe(before);
    expect(await resolver.secretDigest(env)).toBe(before);
    expect(await resolver.secretDigest({ OTHER: env.PW })).not.toBe(before);
  });

  it('depends on the key: without the identity nobody can test guesses against it', async () => {
    const env = { DB: ref('secrets/web.sops.yaml', 'db_password') };
    const a = await createSecretResolver({ identity }).secretDigest(env, { repoDir: repo });
    const b = await createSecretResolver({ identity, digestKey: Buffer.alloc(32) }).secretDigest(env, {
      repoDir: repo,
    });
    expect(a).not.toBe(b);
  });
});

describe('errors name app, variable, file and key, never a value', () => {
  const cases: [string, Record<string, EnvValue>, RegExp, string][] = [
    [
      'a missing key',
      { X: ref('secrets/web.sops.yaml', 'nope') },
      /app web, env X \(secrets\/web\.sops\.yaml key nope\).*has no key nope/,
      'missing-key',
    ],
    ['a mapping', { X: ref('secrets/web.sops.yaml', 'nested') }, /is a mapping, not a value/, 'missing-key'],
    ['a list', { X: ref('secrets/web.sops.yaml', 'list') }, /is a list, not a value/, 'missing-key'],
    ['null', { X: ref('secrets/web.sops.yaml', 'nothing') }, /is empty \(null\)/, 'missing-key'],
    ['a missing file', { X: ref('secrets/none.yaml', 'k') }, /does not exist at this revision/, 'not-found'],
    [
      'a path out of the repository',
      { X: ref('../outside.yaml', 'k') },
      /must be inside the repository/,
      'usage',
    ],
    [
      'Vault without configuration',
      { X: { secretRef: { vault: { path: 'secret/data/web', key: 'k' } } } },
      /no Vault configured/,
      'usage',
    ],
  ];
  it.each(cases)('%s', async (_what, env, message, reason) => {
    const e = await failure(() =>
      createSecretResolver({ identity }).resolveEnv(env, {
        repoDir: repo,
        app: 'web',
        source: { file: 'deploy/web.yaml', line: 3 },
      }),
    );
    expect(e.message).toMatch(message);
    expect(e.message).toContain('(deploy/web.yaml:3)');
    expect(e.reason).toBe(reason);
    expectClean(e);
  });

  it('lists the key names of the file when the key is missing', async () => {
    const e = await failure(() =>
      createSecretResolver({ identity }).resolveEnv(
        { X: ref('secrets/web.sops.yaml', 'nope') },
        { repoDir: repo },
      ),
    );
    expect(e.hint).toBe('it has: db_password, port, ratio, tls, nested, list, nothing');
  });

  it('refuses a link that leads out of the repository', async () => {
    const outside = join(dir, 'outside.yaml');
    writeFileSync(outside, 'a: b\n');
    symlinkSync(outside, join(repo, 'link.yaml'));
    const e = await failure(() =>
      createSecretResolver({ identity }).resolveEnv({ X: ref('link.yaml', 'a') }, { repoDir: repo }),
    );
    expect(e.message).toMatch(/a link that leads outside the repository/);
  });

  it('refuses a tampered file, naming it', async () => {
    const tampered = join(dir, 'tampered');
    mkdirSync(join(tampered, 'secrets'), { recursive: true });
    const out = await encryptDocument(Buffer.from(`a: ${PLANTED}\nb: plain\n`), {
      file: 'x.yaml',
      format: 'yaml',
      recipients: [recipient],
      rules: { encryptedRegex: '^a$' },
    });
    writeFileSync(join(tampered, 'secrets/s.yaml'), out.toString('utf8').replace('b: plain', 'b: changed'));
    const e = await failure(() =>
      createSecretResolver({ identity }).resolveEnv({ A: ref('secrets/s.yaml', 'a') }, { repoDir: tampered }),
    );
    expect(e.reason).toBe('tampered');
    expect(e.message).toMatch(/env A \(secrets\/s\.yaml key a\): secrets\/s\.yaml: MAC mismatch/);
    expectClean(e);
  });

  it('needs an identity for file references, and refuses one kept inside the repository', async () => {
    expect(
      (
        await failure(() =>
          createSecretResolver().resolveEnv({ X: ref('secrets/web.sops.yaml', 'port') }, { repoDir: repo }),
        )
      ).reason,
    ).toBe('no-identity');
    const inRepo = join(repo, 'key.txt');
    writeFileSync(inRepo, (await generateKeyPair()).identityFile);
    const inRepoIdentity = await loadIdentity({ file: inRepo });
    const e = await failure(() =>
      createSecretResolver({ identity: inRepoIdentity }).resolveEnv({ A: 'b' }, { repoDir: repo }),
    );
    expect(e.message).toMatch(/inside the repository being deployed/);
    rmSync(inRepo);
  });

  it('passes Vault outages on as transient', async () => {
    vault.failWith = 502;
    try {
      const e = await failure(() =>
        createSecretResolver({ vault: { address: vault.address, token: 'hvs.resolver' } }).resolveEnv({
          X: { secretRef: { vault: { path: 'secret/data/web', key: 'password' } } },
        }),
      );
      expect(e.transient).toBe(true);
      expect(e.message).toMatch(/env X \(vault secret\/data\/web key password\)/);
    } finally {
      vault.failWith = undefined;
    }
  });
});

describe('identities', () => {
  it('never shows the secret key when printed, logged or serialised', async () => {
    const text = `${inspect(identity)} ${JSON.stringify(identity)} ${String(identity)}`;
    expect(text).not.toMatch(/AGE-SECRET-KEY/);
    expect(text).toContain(recipient);
  });

  it('loads from an environment variable named at start-up', async () => {
    const pair = await generateKeyPair();
    const ids = await loadIdentity({ envVar: 'MY_AGE_KEY', env: { MY_AGE_KEY: pair.identityFile } });
    expect(ids.recipients).toEqual([pair.recipient]);
    expect(ids.source).toBe('$MY_AGE_KEY');
  });

  it.each([
    [{ envVar: 'UNSET_VAR', env: {} }, /UNSET_VAR is not set/],
    [{ file: '/nonexistent/key.txt' }, /does not exist/],
    [{}, /not both or neither/],
    [{ envVar: 'K', env: { K: 'not a key' } }, /line 1 of \$K is not an age identity/],
    [{ envVar: 'K', env: { K: 'AGE-SECRET-KEY-1BROKEN' } }, /damaged age identity/],
    [{ envVar: 'K', env: { K: '# only a comment\n' } }, /holds no age identity/],
  ])('explains %j', async (options, message) => {
    expect((await failure(() => loadIdentity(options))).message).toMatch(message);
  });

  it('finds CLI identities the way SOPS does', async () => {
    const pair = await generateKeyPair();
    const fromEnv = await cliIdentities(undefined, { SOPS_AGE_KEY: pair.identityFile, HOME: dir });
    expect(fromEnv.recipients).toEqual([pair.recipient]);
    expect((await cliIdentities(undefined, { SOPS_AGE_KEY_FILE: identityFile })).recipients).toEqual([
      recipient,
    ]);
    const config = join(dir, 'xdg');
    mkdirSync(join(config, 'sops', 'age'), { recursive: true });
    writeFileSync(join(config, 'sops', 'age', 'keys.txt'), pair.identityFile);
    expect((await cliIdentities(undefined, { XDG_CONFIG_HOME: config })).recipients).toEqual([
      pair.recipient,
    ]);
    expect((await failure(() => cliIdentities(undefined, { HOME: join(dir, 'nohome') }))).message).toMatch(
      /no age identity/,
    );
  });
});

describe('the App schema', () => {
  const app = (env: string): string =>
    `apiVersion: plumbline.dev/v1alpha1\nkind: App\nmetadata: { name: web }\nspec:\n  process:\n    command: [node]\n    env:\n${env}  port: 80\n`;
  const parse = (env: string): unknown => parseConfig(app(env), 'deploy/web.yaml').documents[0]?.value;

  it('puts references in process.secretRefs and keeps env for plain strings', () => {
    const value = parse(
      '      GREETING: hello\n      DB_PASSWORD: { secretRef: { file: ./secrets/web.sops.yaml, key: db_password } }\n      PW:\n        secretRef:\n          vault: { path: secret/data/web, key: password }\n',
    ) as { spec: { process: Record<string, unknown> } };
    expect(value.spec.process.env).toEqual({ GREETING: 'hello' });
    expect(value.spec.process.secretRefs).toEqual({
      DB_PASSWORD: { file: 'secrets/web.sops.yaml', key: 'db_password' },
      PW: { vault: { path: 'secret/data/web', key: 'password' } },
    });
    expect('secretRefs' in (parse('      A: b\n') as { spec: { process: object } }).spec.process).toBe(false);
  });

  it.each([
    [
      '      X: { secretRef: { file: s.yaml } }\n',
      'spec.process.env.X.secretRef.key',
      /missing: reference a secret/,
      8,
    ],
    [
      '      X: { secretRef: { file: s.yaml, key: k, mode: x } }\n',
      'spec.process.env.X.secretRef.mode',
      /unknown field/,
      8,
    ],
    [
      '      X: { secretRef: { file: ../s.yaml, key: k } }\n',
      'spec.process.env.X.secretRef.file',
      /leaves the repository/,
      8,
    ],
    [
      '      X: { secretRef: { vault: { path: web, key: k } } }\n',
      'spec.process.env.X.secretRef.vault.path',
      /<mount>\/data\/<path>/,
      8,
    ],
    ['      X: { secretRef: nope }\n', 'spec.process.env.X.secretRef', /or reference a secret/, 8],
    ['      X: { secret: { file: a, key: b } }\n', 'spec.process.env.X', /quote numbers and booleans/, 8],
    [
      '      X: { secretRef: { file: a, key: b }, extra: 1 }\n',
      'spec.process.env.X.extra',
      /only secretRef/,
      8,
    ],
    ['      X: [a]\n', 'spec.process.env.X', /environment values are strings/, 8],
  ])('explains %j at its field', (env, field, message, line) => {
    try {
      parse(env);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const e = error as ConfigError;
      expect(e.field).toBe(field);
      expect(e.message).toMatch(message);
      expect(e.line).toBe(line);
    }
  });
});

describe('.sops.yaml creation rules', () => {
  it('picks the first rule whose path_regex matches, with its recipients and rules', async () => {
    const root = join(dir, 'rules');
    mkdirSync(join(root, 'k8s', 'deep'), { recursive: true });
    const other = (await generateKeyPair()).recipient;
    writeFileSync(
      join(root, '.sops.yaml'),
      `creation_rules:\n  - path_regex: ^k8s/.*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: >-\n      ${recipient},\n      ${other}\n  - age: [${other}]\n    mac_only_encrypted: true\n`,
    );
    const k8s = creationRuleFor(join(root, 'k8s', 'deep', 's.yaml'));
    expect(k8s?.recipients).toEqual([recipient, other]);
    expect(k8s?.rules).toEqual({ encryptedRegex: '^(data|stringData)$' });
    const rest = creationRuleFor(join(root, 'other.env'));
    expect(rest?.recipients).toEqual([other]);
    expect(rest?.rules).toEqual({ macOnlyEncrypted: true });
    expect(creationRuleFor(join(tmpdir(), 'plumbline-no-config-here', 'x.yaml'))).toBeUndefined();
  });

  it.each([
    ['creation_rules: 3\n', /must be a list/],
    ['creation_rules:\n  - age: age1bad\n', /creation_rules\[0\]\.age: "age1bad" is not an age recipient/],
    ['creation_rules:\n  - key_groups: [{ age: [] }, { age: [] }]\n', /several key groups/],
    ['creation_rules: [\n', /YAML syntax error/],
  ])('explains a broken .sops.yaml: %j', (text, message) => {
    const root = mkdtempSync(join(dir, 'bad-'));
    writeFileSync(join(root, '.sops.yaml'), text);
    expect(() => creationRuleFor(join(root, 'x.yaml'))).toThrow(message);
  });
});
