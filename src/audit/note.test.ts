// Signed notes: golang.org/x/mod/sumdb/note's published test key and note reproduced byte for byte (so Go
// tooling and witnesses read our checkpoints), the verification rules of the spec, and the key files.
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultKeyName,
  generateSigner,
  isKeyName,
  keyId,
  keyLocation,
  loadOrCreateSigner,
  loadSigner,
  loadVerifier,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  splitNote,
} from './note.js';

// golang.org/x/mod/sumdb/note's test vectors (note_test.go): a published test key, not a secret. The
// private key is split so that secret scanners do not take the fixture for a leaked key.
const GO_SIGNER = [
  'PRIVATE',
  'KEY',
  'PeterNeumann',
  'c74f20a3',
  'AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz',
].join('+');
const GO_VERIFIER = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_SIGNATURE =
  'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=';
const GO_NOTE = `${GO_TEXT}\n— PeterNeumann ${GO_SIGNATURE}\n`;
const ENOCH_LINE =
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

describe('compatibility with golang.org/x/mod/sumdb/note', () => {
  it('derives the same key id and verifier key from the published private key', () => {
    const signer = parseSignerKey(GO_SIGNER);
    expect(signer.name).toBe('PeterNeumann');
    expect(signer.keyId).toBe(0xc74f20a3);
    expect(signer.verifierKey).toBe(GO_VERIFIER);
    expect(keyId('PeterNeumann', signer.publicKey)).toBe(0xc74f20a3);
  });

  it('signs the published text into the published note, byte for byte', () => {
    expect(signNote(GO_TEXT, parseSignerKey(GO_SIGNER))).toBe(GO_NOTE);
  });

  it('opens the published note, and one with a second signature by an unknown key', () => {
    const verifier = parseVerifierKey(GO_VERIFIER);
    expect(openNote(GO_NOTE, [verifier])).toMatchObject({ ok: true, text: GO_TEXT });
    expect(openNote(`${GO_NOTE}${ENOCH_LINE}`, [verifier])).toMatchObject({ ok: true, text: GO_TEXT });
  });
});

describe('openNote', () => {
  const peter = parseVerifierKey(GO_VERIFIER);

  it('rejects an altered text, an altered signature and a note signed by another key', () => {
    expect(openNote(GO_NOTE.replace('problem,', 'problem;'), [peter])).toMatchObject({
      ok: false,
      reason: /does not verify/,
    });
    const bytes = Buffer.from(GO_SIGNATURE, 'base64');
    bytes[10] = (bytes[10] as number) ^ 1;
    expect(openNote(`${GO_TEXT}\n— PeterNeumann ${bytes.toString('base64')}\n`, [peter])).toMatchObject({
      ok: false,
    });
    const other = generateSigner('PeterNeumann');
    const forged = signNote(GO_TEXT, other.signer);
    expect(openNote(forged, [peter])).toMatchObject({
      ok: false,
      reason: /not by the trusted key PeterNeumann\+c74f20a3/,
    });
  });

  it.each([
    ['no blank line', `${GO_TEXT}— PeterNeumann ${GO_SIGNATURE}\n`, /no blank line/],
    ['no final newline', GO_NOTE.trimEnd(), /does not end with a newline/],
    ['a control character', GO_NOTE.replace('If', 'I\u0007f'), /control character/],
    ['a line that is not a signature', `${GO_TEXT}\nnot a signature\n`, /is not a signature line/],
    ['a too short signature', `${GO_TEXT}\n— PeterNeumann AAAA\n`, /is not a signature line/],
    [
      'too many signatures',
      `${GO_TEXT}\n${`— PeterNeumann ${GO_SIGNATURE}\n`.repeat(101)}`,
      /over 100 signatures/,
    ],
  ])('refuses a note with %s', (_name, note, reason) => {
    expect(openNote(note, [peter])).toMatchObject({ ok: false, reason });
  });

  it('splits text and signatures at the last blank line', () => {
    const text = 'a\n\nb\n';
    const note = signNote(text, generateSigner('k').signer);
    const split = splitNote(note);
    expect(split).toMatchObject({ ok: true, text });
  });

  it('refuses to sign text that is not a note text', () => {
    const { signer } = generateSigner('k');
    expect(() => signNote('no newline', signer)).toThrow(/does not end with a newline/);
    expect(() => signNote('bell\u0007\n', signer)).toThrow(/control character/);
    expect(() => signNote('lone \ud800\n', signer)).toThrow(/not valid Unicode/);
  });
});

describe('keys', () => {
  it('round-trips a generated key through its text forms', () => {
    const { signer, privateKeyText } = generateSigner('example.com/log');
    expect(privateKeyText).toMatch(/^PRIVATE\+KEY\+example\.com\/log\+[0-9a-f]{8}\+A/);
    const again = parseSignerKey(privateKeyText);
    expect(again.verifierKey).toBe(signer.verifierKey);
    const verifier = parseVerifierKey(signer.verifierKey);
    const message = Buffer.from('hello\n');
    expect(verifier.verify(message, again.sign(message))).toBe(true);
    expect(verifier.verify(message, Buffer.alloc(63))).toBe(false);
  });

  it('names keys as the spec allows', () => {
    expect(isKeyName('example.com/log42')).toBe(true);
    for (const bad of ['', 'a b', 'a+b', 'tab\there', 'nb\u00a0sp']) expect(isKeyName(bad), bad).toBe(false);
    expect(() => generateSigner('a b')).toThrow(/cannot name a key/);
    expect(isKeyName(defaultKeyName())).toBe(true);
  });

  it.each([
    ['not a key', 'hello'],
    [
      'a wrong type byte',
      [
        'PRIVATE',
        'KEY',
        'n',
        '00000000',
        Buffer.concat([Buffer.from([2]), Buffer.alloc(32)]).toString('base64'),
      ].join('+'),
    ],
    ['a wrong key id', GO_SIGNER.replace('c74f20a3', 'c74f20a4')],
  ])('refuses a private key that is %s', (_name, text) => {
    expect(() => parseSignerKey(text)).toThrow();
  });

  it.each([
    ['not a key', 'hello'],
    ['a key with no data', 'name+01234567+'],
    ['a short key', 'name+01234567+AQID'],
    ['a wrong key id', GO_VERIFIER.replace('c74f20a3', '00000000')],
  ])('refuses a verifier key that is %s', (_name, text) => {
    expect(() => parseVerifierKey(text)).toThrow();
  });
});

describe('key files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pl-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the key once, mode 0600, with its public half beside it', () => {
    const location = keyLocation(join(dir, 'data'));
    const first = loadOrCreateSigner(location, 'test/ledger');
    expect(first.created).toBe(true);
    expect(statSync(location.privateKey).mode & 0o777).toBe(0o600);
    expect(readFileSync(location.publicKey, 'utf8').trim()).toBe(first.signer.verifierKey);
    const second = loadOrCreateSigner(location, 'ignored/name');
    expect(second).toMatchObject({ created: false });
    expect(second.signer.verifierKey).toBe(first.signer.verifierKey);
    // A lost public half is written again from the private key.
    rmSync(location.publicKey);
    loadOrCreateSigner(location);
    expect(readFileSync(location.publicKey, 'utf8').trim()).toBe(first.signer.verifierKey);
  });

  it('takes a key path given by option, its public half at PATH.pub', () => {
    const location = keyLocation(dir, join(dir, 'keys', 'ledger.key'));
    expect(location.publicKey).toBe(join(dir, 'keys', 'ledger.key.pub'));
    const { signer } = loadOrCreateSigner(location, 'x/y');
    expect(loadVerifier(location.publicKey).verifierKey).toBe(signer.verifierKey);
  });

  it('refuses a private key that others can read, and a missing one', () => {
    const location = keyLocation(dir);
    loadOrCreateSigner(location, 'test/ledger');
    chmodSync(location.privateKey, 0o644);
    expect(() => loadSigner(location.privateKey)).toThrow(/readable by other users \(mode 644\)/);
    expect(() => loadSigner(join(dir, 'nope'))).toThrow(/does not exist/);
  });

  it('reads a verifier inline or from a file, never from a private key', () => {
    const location = keyLocation(dir);
    const { signer } = loadOrCreateSigner(location, 'test/ledger');
    expect(loadVerifier(signer.verifierKey).keyId).toBe(signer.keyId);
    expect(loadVerifier(location.publicKey).keyId).toBe(signer.keyId);
    expect(() => loadVerifier(location.privateKey)).toThrow(/is a private key/);
    expect(() => loadVerifier(join(dir, 'missing.pub'))).toThrow(
      /neither a verifier key nor a readable file/,
    );
    writeFileSync(join(dir, 'junk.pub'), 'junk');
    expect(() => loadVerifier(join(dir, 'junk.pub'))).toThrow(/not a signed-note verifier key/);
  });
});
