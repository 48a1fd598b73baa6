// Interoperability with the real SOPS (Go) and age: files the sops CLI wrote, with the public test keys their
// projects publish (see __fixtures__/README.md for where each comes from and its licence), must decrypt with
// their MAC verified; changing any byte that matters must be refused; and what Plumbline writes must be
// readable by the reference age implementation (the `age` CLI, when installed: `apt-get install age`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armor, Decrypter } from 'age-encryption';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { AgeIdentities, loadIdentity } from './age.js';
import { decryptDocument, encryptDocument } from './document.js';
import { SecretsError } from './errors.js';
import { formatForPath } from './stores/index.js';

const FIXTURES = join(import.meta.dirname, '__fixtures__');

// The published test identities, kept here rather than as files so that Plumbline's own secret scan of this
// repository (which suppresses *.test.ts) does not report them. They protect nothing.
const KEY_FILES: Record<string, string> = {
  // fluxcd/kustomize-controller internal/decryptor/testdata/age.txt (Apache-2.0)
  'flux/age.agekey': `# created: 2021-03-31T09:51:59+02:00
# public key: age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29
AGE-SECRET-KEY-1RH87A5Z54ZGUR9S0AS3R6WHFSEFNPLYMAKF5Z2CEU7R06VRJ0A3Q7242AM
`,
  // fluxcd/kustomize-controller internal/controller/testdata/sops/keys/age-global.txt (Apache-2.0)
  'flux/age-global.agekey': `# created: 2025-07-06T17:30:37+01:00
# public key: age1henwn645drkd3fa34t27t2w2x0nsgw3w4h62gmg5x5xflyjpy38s5cncph
AGE-SECRET-KEY-10U7MAELH09KZU63F65P2TYLN7TQM5X6GSDDCQ4YMUGDS3DS6XZMSTYY2PN
`,
  // getsops/sops age/keys.txt (MPL-2.0): the key of the SOPS README's examples, and a second one
  'getsops/keys.txt': `# created: 2020-07-18T03:16:47-07:00
# public key: age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw
AGE-SECRET-KEY-1NJT5YCS2LWU4V4QAJQ6R4JNU7LXPDX602DZ9NUFANVU5GDTGUWCQ5T59M6
# created: 2021-12-12T01:39:30+01:00
# public key: age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssq9sla97ep
AGE-SECRET-KEY-1T0Z66WSXS6RMNCPSL7P2E8N4Q7SUD8VMG9ND27S08JL7Y2XAU9EQECHDS7`,
};

const keyDir = mkdtempSync(join(tmpdir(), 'plumbline-sops-keys-'));
afterAll(() => rmSync(keyDir, { recursive: true, force: true }));
function keyFile(name: string): string {
  const file = join(keyDir, name.replaceAll('/', '_'));
  writeFileSync(file, KEY_FILES[name] ?? '', { mode: 0o600 });
  return file;
}

const read = (name: string): Buffer => readFileSync(join(FIXTURES, name));
const identity = (name: string): Promise<AgeIdentities> => loadIdentity({ file: keyFile(name) });

async function decrypt(name: string, key: string, input = read(name)) {
  return decryptDocument(input, { file: name, format: formatForPath(name), identities: await identity(key) });
}

async function refusal(name: string, key: string, input: Buffer): Promise<SecretsError> {
  try {
    await decrypt(name, key, input);
  } catch (error) {
    if (error instanceof SecretsError) return error;
    throw error;
  }
  throw new Error('expected the file to be refused');
}

describe('files written by the sops CLI', () => {
  it.each([
    [
      'flux/algorithms-age.yaml',
      'flux/age.agekey',
      'apiVersion: v1\nkind: Secret\nmetadata:\n    name: age\nstringData:\n    key: value\n',
    ],
    [
      'flux/global-secret.yaml',
      'flux/age-global.agekey',
      'apiVersion: v1\nkind: Secret\nmetadata:\n    name: global-age-secret\n    namespace: default\ntype: Opaque\nstringData:\n    key: global-value\n',
    ],
    ['flux/remote.env', 'flux/age.agekey', 'key=value\n'],
    ['flux/component.env', 'flux/age.agekey', 'key=value\n'],
    ['flux/binary-file.json', 'flux/age.agekey', '{\n\t"data": "value"\n}\n'],
    [
      'sops-nix/secrets.yaml',
      'getsops/keys.txt',
      'test_key: test_value\na_list:\n    - e1\n    - e3\nnested:\n    test:\n        file: another value\n',
    ],
  ])('%s decrypts with its MAC verified', async (name, key, expected) => {
    const doc = await decrypt(name, key);
    expect(doc.plaintext().toString('utf8')).toBe(expected);
  });

  it('reads the JSON envelope of the binary store as the raw data', async () => {
    const doc = await decryptDocument(read('flux/binary-file.json'), {
      file: 'file.txt',
      format: 'binary',
      identities: await identity('flux/age.agekey'),
    });
    expect(doc.plaintext().toString('utf8')).toBe('value');
  });

  it('finds the data key through the second identity of a key file and the first stanza that opens', async () => {
    // getsops/keys.txt holds two identities; sops-nix's file has two age stanzas and two PGP ones.
    const ids = await identity('getsops/keys.txt');
    expect(ids.recipients).toEqual([
      'age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw',
      'age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssq9sla97ep',
    ]);
    const doc = await decrypt('sops-nix/secrets.yaml', 'getsops/keys.txt');
    expect(doc.metadata.age).toHaveLength(2);
    expect(doc.metadata.preserved.map((p) => p.key)).toEqual(['pgp']);
  });

  it('names the recipients when the identity does not fit', async () => {
    const e = await refusal('flux/remote.env', 'getsops/keys.txt', read('flux/remote.env'));
    expect(e.reason).toBe('no-identity');
    expect(e.message).toContain('flux/remote.env');
    expect(e.message).toContain('age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29');
    expect(e.message).not.toContain('AGE-SECRET-KEY');
  });
});

describe('tampering with a file sops wrote', () => {
  const yaml = read('flux/algorithms-age.yaml').toString('utf8');
  const env = read('flux/remote.env').toString('utf8');
  it.each([
    ['a plain (unencrypted) value changed', yaml.replace('name: age', 'name: agf'), 'MAC mismatch'],
    [
      'a key renamed (the additional data changes)',
      yaml.replace('  key: ENC', '  kex: ENC'),
      'fails authentication',
    ],
    ['an encrypted value changed', yaml.replace('data:mHeXsmQ=', 'data:mHeXsmA='), 'fails authentication'],
    ['lastmodified moved', yaml.replace('2024-11-12T13:33:42Z', '2024-11-12T13:33:43Z'), 'MAC mismatch'],
    ['a value replaced in plain text', yaml.replace(/key: ENC\[[^\]]+\]/, 'key: hunter2'), 'ENC[AES256_GCM'],
    ['the MAC removed', yaml.replace(/ {2}mac: ENC\[[^\]]+\]\n/, ''), 'MAC mismatch'],
    ['a document added', `${yaml.replace('stringData:', 'extra: x\nstringData:')}`, 'MAC mismatch'],
  ])('is refused: %s', async (_what, text, message) => {
    const e = await refusal('flux/algorithms-age.yaml', 'flux/age.agekey', Buffer.from(text));
    expect(e.reason).toMatch(/tampered/);
    expect(e.message).toContain('flux/algorithms-age.yaml');
    expect(e.message).toContain(message);
  });

  it('refuses a dotenv file with a value swapped for one from another file', async () => {
    const other = read('flux/component.env').toString('utf8').split('\n')[0] ?? '';
    const text = env.replace(/^key=.*$/m, other);
    const e = await refusal('flux/remote.env', 'flux/age.agekey', Buffer.from(text));
    expect(e.reason).toBe('tampered');
  });

  it('refuses a damaged age stanza', async () => {
    const e = await refusal(
      'flux/global-secret.yaml',
      'flux/age-global.agekey',
      Buffer.from(
        read('flux/global-secret.yaml').toString('utf8').replace('wVILC0MO4CPlK0kn', 'wVILC0MO4CPlK0km'),
      ),
    );
    expect(e.reason).toBe('tampered');
  });
});

describe('the age layer', () => {
  // getsops/sops age/keysource_test.go: mockEncryptedKey, armored by Go's filippo.io/age, opens to "data".
  const mockIdentity = 'AGE-SECRET-KEY-1G0Q5K9TV4REQ3ZSQRMTMG8NSWQGYT0T7TZ33RAZEE0GZYVZN0APSU24RK7';
  const mockEncryptedKey = `-----BEGIN AGE ENCRYPTED FILE-----
YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBvY2t2NkdLUGRvY3l2OGNy
MVJWcUhCOEZrUG8yeCtnRnhxL0I5NFk4YjJFCmE4SVQ3MEdyZkFqRWpSa2F0NVhF
VDUybzBxdS9nSGpHSVRVMUI0UEVqZkkKLS0tIGJjeGhNQ0Y5L2VZRVVYSm90djFF
bzdnQ3UwTGljMmtrbWNMV1MxYkFzUFUK4xjOZOTGdcbzuwUY/zeBXhcF+Md3e5PQ
EylloI7MNGbadPGb
-----END AGE ENCRYPTED FILE-----`;

  it('opens the armored age file from the SOPS test suite', async () => {
    const ids = await AgeIdentities.parse(mockIdentity, 'test');
    expect(ids.recipients).toEqual(['age1lzd99uklcjnc0e7d860axevet2cz99ce9pq6tzuzd05l5nr28ams36nvun']);
    const opened = await ids.open(mockEncryptedKey);
    expect(Buffer.from(opened ?? []).toString('utf8')).toBe('data');
  });

  const dir = mkdtempSync(join(tmpdir(), 'plumbline-age-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const ageCli = spawnSync('age', ['--version'], { encoding: 'utf8' }).status === 0;

  it.skipIf(!ageCli)('writes data keys that the reference age CLI (Go) opens', async () => {
    const ageKey = keyFile('flux/age.agekey');
    const out = await encryptDocument(Buffer.from('password: hunter2\n'), {
      file: 'x.yaml',
      format: 'yaml',
      recipients: ['age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29'],
    });
    const enc =
      (parseYaml(out.toString('utf8')) as { sops: { age: { enc: string }[] } }).sops.age[0]?.enc ?? '';
    const encFile = join(dir, 'key.age');
    writeFileSync(encFile, enc);
    const r = spawnSync('age', ['--decrypt', '--identity', ageKey, encFile]);
    expect(r.status).toBe(0);
    expect(r.stdout).toHaveLength(32);
    // …and it is the data key: the same bytes typage finds.
    const d = new Decrypter();
    d.addIdentity(KEY_FILES['flux/age.agekey']?.split('\n')[2] ?? '');
    expect(Buffer.from(await d.decrypt(armor.decode(enc))).equals(r.stdout)).toBe(true);
  });

  it.skipIf(!ageCli)('opens data keys that the reference age CLI wrapped', async () => {
    const dataKey = Buffer.alloc(32, 7);
    const r = spawnSync(
      'age',
      [
        '--encrypt',
        '--armor',
        '--recipient',
        'age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29',
      ],
      { input: dataKey },
    );
    expect(r.status).toBe(0);
    const ids = await identity('flux/age.agekey');
    expect(Buffer.from((await ids.open(r.stdout.toString('utf8'))) ?? []).equals(dataKey)).toBe(true);
  });
});
