// Round trips through every format, the encryption rules, edits that keep the data key, and bad input:
// malformed, tampered, binary, deep, huge. A planted secret value must never appear in an error message.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { AgeIdentities, generateKeyPair, parseRecipients } from './age.js';
import { formatFloat, isEncryptedValue } from './cipher.js';
import { decryptDocument, encryptDocument, isEncrypted } from './document.js';
import { SecretsError } from './errors.js';
import type { SopsFormat } from './stores/index.js';
import type { EncryptionRules } from './tree.js';

const PLANTED = `Pl4nted-${randomBytes(9).toString('hex')}-s3cret`;
let ids: AgeIdentities;
let recipient: string;
let other: AgeIdentities;

beforeAll(async () => {
  const pair = await generateKeyPair();
  recipient = pair.recipient;
  ids = await AgeIdentities.parse(pair.identityFile, 'test key');
  other = await AgeIdentities.parse((await generateKeyPair()).identityFile, 'other key');
});

async function seal(text: string | Buffer, format: SopsFormat, rules?: EncryptionRules): Promise<Buffer> {
  return encryptDocument(Buffer.isBuffer(text) ? text : Buffer.from(text), {
    file: `in.${format}`,
    format,
    recipients: [recipient],
    ...(rules === undefined ? {} : { rules }),
  });
}

async function open(input: Buffer, format: SopsFormat, identities = ids) {
  return decryptDocument(input, { file: `in.${format}`, format, identities });
}

async function failure(run: () => Promise<unknown>): Promise<SecretsError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof SecretsError) return error;
    throw error;
  }
  throw new Error('expected a SecretsError');
}

function expectNoSecret(e: Error & { hint?: string | undefined }): void {
  expect(`${e.message} ${e.hint ?? ''} ${String(e.stack)}`).not.toContain(PLANTED);
}

describe('YAML', () => {
  const plain = `# head comment
password: ${PLANTED}
port: 5432
ratio: 1.5
whole: 2.0
enabled: true
off: false
empty: ""
nothing: null
user_unencrypted: admin
when: "2024-01-01"
nested:
    # inside
    token: abc
    list:
        - one
        # before two
        - 2
        - {a: b}
    empty_map: {}
    empty_list: []
multi: |
    line one
    line two
# trailing
`;

  it('keeps keys readable, encrypts every value and comment, and decrypts to the same document', async () => {
    const out = await seal(plain, 'yaml');
    const text = out.toString('utf8');
    expect(text).not.toContain(PLANTED);
    expect(text).not.toContain('head comment');
    expect(text).toContain('user_unencrypted: admin');
    expect(text).toMatch(/^#ENC\[AES256_GCM,/);
    const doc = parseYaml(text) as Record<string, unknown> & { sops: Record<string, unknown> };
    expect(isEncryptedValue(doc.password)).toBe(true);
    expect(String(doc.port)).toMatch(/type:int\]$/);
    expect(String(doc.ratio)).toMatch(/type:float\]$/);
    expect(String(doc.enabled)).toMatch(/type:bool\]$/);
    expect(doc.empty).toBe('');
    expect(doc.nothing).toBeNull();
    expect(Object.keys(doc.sops)).toEqual(['age', 'lastmodified', 'mac', 'unencrypted_suffix', 'version']);
    expect(text).toMatch(/lastmodified: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/);

    const back = (await open(out, 'yaml')).plaintext().toString('utf8');
    expect(parseYaml(back)).toEqual(parseYaml(plain));
    expect(back).toContain('# head comment');
    expect(back).toContain('# before two');
    expect(back).toContain('# trailing');
    expect(back).toContain('whole: 2.0');
    expect(back).toContain('when: "2024-01-01"');
  });

  it('encrypts each document of a stream with one data key and one MAC', async () => {
    const out = await seal('a: 1\n---\nb: two\n', 'yaml');
    const text = out.toString('utf8');
    expect(text.split('\n---\n')).toHaveLength(2);
    expect(text.match(/^sops:/gm)).toHaveLength(2);
    expect((await open(out, 'yaml')).plaintext().toString('utf8')).toBe('a: 1\n---\nb: two\n');
  });

  it('expands aliases, as SOPS does', async () => {
    const out = await seal('base: &b {user: x}\ncopy: *b\n', 'yaml');
    expect(parseYaml((await open(out, 'yaml')).plaintext().toString('utf8'))).toEqual({
      base: { user: 'x' },
      copy: { user: 'x' },
    });
  });

  it.each([
    ['a syntax error', 'a: 1\nb: [unclosed\nc: 3\n', /in\.yaml:\d+: YAML syntax error/],
    ['a top-level list', '- a\n- b\n', /in\.yaml:1: a YAML document must be a mapping, not a list/],
    ['a single value', 'just text\n', /must be a mapping, not a single value/],
    ['a number as a key', '80: http\n', /in\.yaml:1: the key 80 is not a string/],
    ['duplicate keys', 'a: 1\na: 2\n', /in\.yaml:2: the key a appears twice/],
  ])('refuses %s with file and line', async (_what, text, message) => {
    const e = await failure(() => seal(`${text}`, 'yaml'));
    expect(e.message).toMatch(message);
    expect(e.reason).toBe('malformed');
  });

  it('refuses a billion-laughs alias bomb', async () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const e = await failure(() => seal(`${lines.join('\n')}\n`, 'yaml'));
    expect(e.reason).toBe('too-large');
  });

  it('refuses a file that is already encrypted', async () => {
    const out = await seal('a: b\n', 'yaml');
    const e = await failure(() => seal(out, 'yaml'));
    expect(e.message).toMatch(/already encrypted/);
    expect(isEncrypted(out, 'yaml', 'x')).toBe(true);
    expect(isEncrypted(Buffer.from('a: b\n'), 'yaml', 'x')).toBe(false);
    expect(isEncrypted(Buffer.from('a: [\n'), 'yaml', 'x')).toBe(false);
  });

  it('refuses to decrypt a plain file', async () => {
    const e = await failure(() => open(Buffer.from('a: b\n'), 'yaml'));
    expect(e.message).toMatch(/in\.yaml: is not encrypted with SOPS/);
  });
});

describe('JSON', () => {
  it('keeps key order exactly (integer-like keys too) and reads every number as a float, like Go', async () => {
    const plain = `{"b": "${PLANTED}", "2": "two", "1": 1.25, "n": {"deep": [true, "s", null, {}]}, "i": 42, "e": []}`;
    const out = await seal(plain, 'json');
    const text = out.toString('utf8');
    expect(text).not.toContain(PLANTED);
    expect([...text.matchAll(/^\t"([^"]+)":/gm)].map((m) => m[1])).toEqual([
      'b',
      '2',
      '1',
      'n',
      'i',
      'e',
      'sops',
    ]);
    expect(text).toMatch(/"i": "ENC\[[^\]]+type:float\]"/);
    expect(text.startsWith('{\n\t"b": "ENC[')).toBe(true);
    const back = (await open(out, 'json')).plaintext().toString('utf8');
    expect(back).toBe(
      `{\n\t"b": "${PLANTED}",\n\t"2": "two",\n\t"1": 1.25,\n\t"n": {\n\t\t"deep": [\n\t\t\ttrue,\n\t\t\t"s",\n\t\t\tnull,\n\t\t\t{}\n\t\t]\n\t},\n\t"i": 42,\n\t"e": []\n}\n`,
    );
  });

  it.each([
    ['a top-level array', '[1, 2]', /in\.json:1: JSON syntax error: the top level must be an object/],
    ['a missing comma', '{\n"a": 1\n"b": 2}', /in\.json:3: JSON syntax error: expected "," or "}"/],
    [
      'an unterminated string',
      `{\n\n"a": "${PLANTED}\n}`,
      /in\.json:\d+: JSON syntax error: a string is not terminated/,
    ],
    ['trailing text', '{"a": 1} x', /after the top-level object/],
    ['a bad literal', '{"a": tru}', /unexpected "t"/],
    ['an unquoted key', '{a: 1}', /expected a key in double quotes/],
    ['an empty file', '', /the top level must be an object, found the end of the file/],
  ])('refuses %s with file and line, never echoing a value', async (_what, text, message) => {
    const e = await failure(() => seal(text, 'json'));
    expect(e.message).toMatch(message);
    expectNoSecret(e);
  });

  it('refuses nesting deeper than it will walk', async () => {
    const deep = `{"a": ${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const e = await failure(() => seal(deep, 'json'));
    expect(e.reason).toBe('too-large');
  });
});

describe('dotenv', () => {
  it('round-trips comments, newlines and _unencrypted keys, with the metadata flattened and sorted', async () => {
    const plain = `# db\nDB_PASSWORD=${PLANTED}\nMULTI=one\\ntwo\nEMPTY=\nNAME_unencrypted=plain\nEQ=a=b\n`;
    const out = await seal(plain, 'dotenv');
    const text = out.toString('utf8');
    expect(text).not.toContain(PLANTED);
    expect(text).toContain('NAME_unencrypted=plain\n');
    expect(text).toContain('EMPTY=\n');
    const meta = text
      .split('\n')
      .filter((l) => l.startsWith('sops_'))
      .map((l) => l.slice(0, l.indexOf('=')));
    expect(meta).toEqual([
      'sops_age__list_0__map_enc',
      'sops_age__list_0__map_recipient',
      'sops_lastmodified',
      'sops_mac',
      'sops_unencrypted_suffix',
      'sops_version',
    ]);
    const doc = await open(out, 'dotenv');
    expect(doc.plaintext().toString('utf8')).toBe(plain);
  });

  it('refuses a line without =', async () => {
    const e = await failure(() => seal(`A=1\n${PLANTED}\n`, 'dotenv'));
    expect(e.message).toMatch(/in\.dotenv:2: a dotenv line must be KEY=value/);
    expectNoSecret(e);
  });

  it('refuses nested values when writing dotenv', async () => {
    const { dotenvStore } = await import('./stores/dotenv.js');
    const { map, list } = await import('./tree.js');
    expect(() => dotenvStore.emitPlain([map([{ key: 'A', value: list(['x']) }])])).toThrow(/cannot hold/);
  });
});

describe('binary', () => {
  it('keeps any bytes, including invalid UTF-8 and NUL, as one value', async () => {
    const bytes = Buffer.concat([
      Buffer.from([0, 0xff, 0xfe, 0x80]),
      randomBytes(4096),
      Buffer.from(PLANTED),
    ]);
    const out = await seal(bytes, 'binary');
    expect(out.toString('utf8')).toMatch(/^\{\n\t"data": "ENC\[AES256_GCM,/);
    expect(out.includes(Buffer.from(PLANTED))).toBe(false);
    expect((await open(out, 'binary')).plaintext().equals(bytes)).toBe(true);
  });

  it('treats binary input given as YAML as a clear error, not a crash', async () => {
    const e = await failure(() => seal(Buffer.from([0x7b, 0x00, 0xff, 0x3a, 0x0a]), 'yaml'));
    expect(e.reason).toBe('malformed');
  });
});

describe('encryption rules', () => {
  const plain =
    'metadata:\n    name: web\nstringData:\n    password: s3\ndata:\n    x: why\nother_unencrypted: o\n';

  it.each([
    [{ encryptedRegex: '^(data|stringData)$' }, ['s3', 'why'], ['web', 'o'], 'encrypted_regex'],
    [{ unencryptedRegex: '^metadata$' }, ['s3', 'why', 'o'], ['web'], 'unencrypted_regex'],
    [{ encryptedSuffix: 'Data' }, ['s3'], ['web', 'why', 'o'], 'encrypted_suffix'],
    [{ unencryptedSuffix: '_unencrypted' }, ['s3', 'why', 'web'], ['o'], 'unencrypted_suffix'],
  ] as const)('%j', async (rules, hidden, shown, field) => {
    const out = await seal(plain, 'yaml', rules);
    const text = out.toString('utf8');
    for (const v of hidden) expect(text).not.toMatch(new RegExp(`: ${v}\\n`));
    for (const v of shown) expect(text).toMatch(new RegExp(`: ${v}\\n`));
    expect(text).toContain(`${field}: `);
    expect((await open(out, 'yaml')).plaintext().toString('utf8')).toBe(plain);
  });

  it('mac_only_encrypted lets plain values change without breaking the MAC', async () => {
    const out = await seal(plain, 'yaml', { encryptedRegex: '^stringData$', macOnlyEncrypted: true });
    expect(out.toString('utf8')).toContain('mac_only_encrypted: true');
    const changed = Buffer.from(out.toString('utf8').replace('name: web', 'name: api'));
    expect((await open(changed, 'yaml')).plaintext().toString('utf8')).toContain('name: api');
    // Without it, the same change is tampering.
    const strict = await seal(plain, 'yaml', { encryptedRegex: '^stringData$' });
    const e = await failure(() =>
      open(Buffer.from(strict.toString('utf8').replace('name: web', 'name: api')), 'yaml'),
    );
    expect(e.message).toMatch(/MAC mismatch/);
  });

  it('encrypted_comment_regex encrypts only what follows a marked comment', async () => {
    const text = '# sops:enc\nsecret: s3\nplain: p\n';
    const out = await seal(text, 'yaml', { encryptedCommentRegex: 'sops:enc' });
    const s = out.toString('utf8');
    expect(s).toContain('# sops:enc');
    expect(s).toContain('plain: p');
    expect(s).not.toContain('secret: s3');
    expect((await open(out, 'yaml')).plaintext().toString('utf8')).toBe(text);
  });

  it('unencrypted_comment_regex leaves what follows a marked comment readable', async () => {
    const out = await seal('# public\nname: nina\nsecret: s3\n', 'yaml', {
      unencryptedCommentRegex: 'public',
    });
    expect(out.toString('utf8')).toContain('name: nina');
    expect(out.toString('utf8')).not.toContain('secret: s3');
  });

  it('refuses two rules at once and a bad regular expression', async () => {
    expect(
      (await failure(() => seal(plain, 'yaml', { encryptedRegex: 'a', encryptedSuffix: 'b' }))).message,
    ).toMatch(/at most one of/);
    expect((await failure(() => seal(plain, 'yaml', { encryptedRegex: '(' }))).message).toMatch(
      /encrypted_regex is not a valid regular expression/,
    );
  });
});

describe('edit: re-encrypting with the same data key', () => {
  const plain = `a: 1\nb: ${PLANTED}\nc:\n    - ex\n    - why\n`;

  it('keeps the ciphertext of unchanged values and the age stanzas, and changes only what was edited', async () => {
    const first = await seal(plain, 'yaml');
    const doc = await open(first, 'yaml');
    const edited = doc.plaintext().toString('utf8').replace('- why', '- zed');
    const second = doc.reencrypt(Buffer.from(edited), { now: new Date('2030-01-01T00:00:00Z') });
    const lines = (b: Buffer): string[] => b.toString('utf8').split('\n');
    const changed = lines(second).filter((l) => !lines(first).includes(l));
    // The edited list item, the lastmodified and the MAC, nothing else.
    expect(changed).toHaveLength(3);
    expect(changed.join('\n')).toContain('lastmodified: "2030-01-01T00:00:00Z"');
    expect((await open(second, 'yaml')).plaintext().toString('utf8')).toBe(edited);
    expect(JSON.stringify(doc)).not.toContain(PLANTED);
    doc.dispose();
  });

  it('keeps PGP and other stanzas it cannot use', async () => {
    const first = await seal(plain, 'yaml');
    const withPgp = Buffer.from(
      first
        .toString('utf8')
        .replace(
          '    lastmodified:',
          '    pgp:\n        - fp: ABC\n          enc: x\n          created_at: "2020-01-01T00:00:00Z"\n    lastmodified:',
        ),
    );
    const doc = await open(withPgp, 'yaml');
    const again = doc.reencrypt(doc.plaintext());
    expect(again.toString('utf8')).toContain('fp: ABC');
  });

  it('reports a syntax error in the edited text with its line', async () => {
    const doc = await open(await seal(plain, 'yaml'), 'yaml');
    const e = await failure(async () => doc.reencrypt(Buffer.from('a: 1\nb: [\n')));
    expect(e.message).toMatch(/in\.yaml:\d+: YAML syntax error/);
  });
});

describe('identities and metadata', () => {
  it('refuses the wrong identity, naming the recipients but no key', async () => {
    const out = await seal('a: b\n', 'yaml');
    const e = await failure(() => open(out, 'yaml', other));
    expect(e.reason).toBe('no-identity');
    expect(e.message).toContain(recipient);
    expect(e.message).not.toMatch(/AGE-SECRET-KEY-1[A-Z0-9]{10}/);
  });

  it('encrypts for several recipients, each able to decrypt', async () => {
    const out = await encryptDocument(Buffer.from('a: b\n'), {
      file: 'x.yaml',
      format: 'yaml',
      recipients: [recipient, other.recipients[0] as string],
    });
    expect((await open(out, 'yaml', other)).plaintext().toString()).toBe('a: b\n');
    expect((await open(out, 'yaml', ids)).plaintext().toString()).toBe('a: b\n');
  });

  it.each([
    [
      'no lastmodified',
      (t: string) => t.replace(/ {4}lastmodified:.*\n/, ''),
      /sops\.lastmodified: is missing/,
    ],
    [
      'a bad lastmodified',
      (t: string) => t.replace(/lastmodified: ".*"/, 'lastmodified: yesterday'),
      /RFC 3339/,
    ],
    [
      'age not a list',
      (t: string) => t.replace(/ {4}age:\n(?: {8}.*\n)+/, '    age: nope\n'),
      /sops\.age: expected a list/,
    ],
    ['no age stanza', (t: string) => t.replace(/ {4}age:\n(?: {8}.*\n)+/, ''), /has no age recipients/],
    [
      'a stanza without enc',
      (t: string) => t.replace(/ {10}enc: \|\n(?: {14}.*\n)+/, ''),
      /needs recipient and enc/,
    ],
    [
      'metadata not a mapping',
      (t: string) => t.replace(/^sops:\n[\s\S]*$/m, 'sops: 3\n'),
      /sops\.: expected a mapping/,
    ],
    [
      'Shamir key groups',
      (t: string) => t.replace(/^sops:\n/m, 'sops:\n    key_groups:\n        - age: []\n        - age: []\n'),
      /2 key groups \(Shamir\)/,
    ],
  ])('refuses metadata with %s', async (_what, damage, message) => {
    const out = (await seal('a: b\n', 'yaml')).toString('utf8');
    const e = await failure(() => open(Buffer.from(damage(out)), 'yaml'));
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/^in\.yaml(:\d+)?: /);
  });

  it('refuses bad recipients, and never echoes a secret key given by mistake', () => {
    expect(() => parseRecipients('age1nope')).toThrow(/is not an age recipient/);
    const key = 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ';
    try {
      parseRecipients(key);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain(key);
      expect((error as Error).message).toMatch(/a secret key!/);
    }
    expect(parseRecipients(` ${recipient} ,\n${recipient}`)).toEqual([recipient]);
  });

  it('needs at least one recipient and something to encrypt', async () => {
    expect(
      (
        await failure(() =>
          encryptDocument(Buffer.from('a: b\n'), { file: 'x', format: 'yaml', recipients: [] }),
        )
      ).message,
    ).toMatch(/no age recipients/);
    expect((await failure(() => seal('', 'yaml'))).message).toMatch(/is empty/);
  });
});

describe('size', () => {
  it('refuses a file over the limit before parsing it', async () => {
    const e = await failure(() =>
      encryptDocument(Buffer.alloc(2048, 0x61), {
        file: 'big.yaml',
        format: 'yaml',
        recipients: [recipient],
        maxBytes: 1024,
      }),
    );
    expect(e.reason).toBe('too-large');
    expect(e.message).toMatch(/big\.yaml: is 2048 bytes/);
  });

  it('handles a large file (10,000 keys) in reasonable time', async () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => `key_${i}: value-${i}-${PLANTED}`);
    const started = Date.now();
    const out = await seal(`${lines.join('\n')}\n`, 'yaml');
    const doc = await open(out, 'yaml');
    expect(doc.branches[0]?.items).toHaveLength(10_000);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

describe('floats as Go writes them', () => {
  it.each([
    [1.5, '1.5'],
    [1, '1'],
    [1e21, '1000000000000000000000'],
    [1.5e-7, '0.00000015'],
    [-2.5e22, '-25000000000000000000000'],
    [123456.789, '123456.789'],
    [Number.NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [-0, '-0'],
  ])('%d → %s', (n, s) => {
    expect(formatFloat(n)).toBe(s);
  });
});

describe('formats by name', () => {
  it('chooses the store from the file name, as the sops CLI does, and parses --format', async () => {
    const { formatForPath, parseFormat } = await import('./stores/index.js');
    expect(['a.yaml', 'b.YML', 'c.json', '.env', 'prod.env', 'x.bin', 'Makefile'].map(formatForPath)).toEqual(
      ['yaml', 'yaml', 'json', 'dotenv', 'dotenv', 'binary', 'binary'],
    );
    expect(['yml', 'env', 'JSON', 'binary'].map(parseFormat)).toEqual(['yaml', 'dotenv', 'json', 'binary']);
    expect(() => parseFormat('toml')).toThrow(/unknown format "toml"/);
  });
});
