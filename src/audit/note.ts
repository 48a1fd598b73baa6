// C2SP signed notes (https://c2sp.org/signed-note) with Ed25519, compatible with golang.org/x/mod/sumdb/note:
// the signed text, a blank line, then `— <key name> base64(key ID ‖ signature)` lines. Keys are written as
// that package writes them: `PRIVATE+KEY+<name>+<key ID hex>+base64(0x01 ‖ seed)` and the verifier key
// `<name>+<key ID hex>+base64(0x01 ‖ public key)`. The ledger's key lives in a file beside the database
// (mode 0600), never in it.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';

/** The signature type byte of Ed25519 in signed notes. */
export const ALG_ED25519 = 0x01;
/** Default file names, in the data directory beside the controller database. */
export const KEY_FILE = 'audit-key';
export const PUBLIC_KEY_FILE = 'audit-key.pub';
/** Signature lines a note may carry (the spec asks verifiers to accept at least 16). */
export const MAX_SIGNATURES = 100;

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Buffer;
  /** `<name>+<key ID>+base64(0x01 ‖ public key)`: what verifiers are configured with. */
  readonly verifierKey: string;
  sign(message: Uint8Array): Buffer;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Buffer;
  readonly verifierKey: string;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

/** A signature line of a note. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  readonly signature: Buffer;
}

/** Key names (and checkpoint origins) must be non-empty, with no Unicode space and no `+`. */
export function isKeyName(name: string): boolean {
  return name !== '' && !/[\s+\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u.test(name);
}

/** SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4], big-endian. */
export function keyId(name: string, publicKey: Uint8Array): number {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ALG_ED25519]))
    .update(publicKey)
    .digest()
    .readUInt32BE(0);
}

function hex8(id: number): string {
  return id.toString(16).padStart(8, '0');
}

function verifierKeyText(name: string, publicKey: Buffer): string {
  return `${name}+${hex8(keyId(name, publicKey))}+${Buffer.concat([Buffer.from([ALG_ED25519]), publicKey]).toString('base64')}`;
}

function signerFromSeed(name: string, seed: Buffer): NoteSigner {
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(-32);
  return {
    name,
    keyId: keyId(name, publicKey),
    publicKey,
    verifierKey: verifierKeyText(name, publicKey),
    sign: (message) => sign(null, message, key),
  };
}

function verifierFromPublicKey(name: string, publicKey: Buffer): NoteVerifier {
  const key: KeyObject = createPublicKey({
    key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]),
    format: 'der',
    type: 'spki',
  });
  return {
    name,
    keyId: keyId(name, publicKey),
    publicKey,
    verifierKey: verifierKeyText(name, publicKey),
    verify: (message, signature) => signature.length === 64 && verify(null, message, key, signature),
  };
}

/** A fresh Ed25519 key; `privateKeyText` is the only copy of its secret half. */
export function generateSigner(name: string): { signer: NoteSigner; privateKeyText: string } {
  if (!isKeyName(name)) {
    throw new InputError(`"${name}" cannot name a key`, 'a key name is non-empty, with no spaces and no "+"');
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
  const signer = signerFromSeed(name, Buffer.from(seed));
  const privateKeyText = `PRIVATE+KEY+${name}+${hex8(signer.keyId)}+${Buffer.concat([Buffer.from([ALG_ED25519]), seed]).toString('base64')}`;
  return { signer, privateKeyText };
}

/** Parses `PRIVATE+KEY+<name>+<id>+<base64>`; `where` names the source in errors, never the key itself. */
export function parseSignerKey(text: string, where = 'the private key'): NoteSigner {
  const parts = text.trim().split('+');
  // The base64 key data may itself contain "+": everything after the fourth "+" is the key.
  const [p1, p2, name, id, ...rest] = parts;
  const data = Buffer.from(rest.join('+'), 'base64');
  if (p1 !== 'PRIVATE' || p2 !== 'KEY' || name === undefined || id === undefined || rest.length === 0) {
    throw new InputError(
      `${where} is not a signed-note private key`,
      'it reads PRIVATE+KEY+<name>+<key id>+<base64>',
    );
  }
  if (!isKeyName(name) || !/^[0-9a-f]{8}$/.test(id) || data.length !== 33 || data[0] !== ALG_ED25519) {
    throw new InputError(
      `${where} is malformed or not an Ed25519 key`,
      'create a new one: `plumbline audit key --create`',
    );
  }
  const signer = signerFromSeed(name, data.subarray(1));
  if (hex8(signer.keyId) !== id) {
    throw new InputError(`${where}: its key ID ${id} does not match the key (${hex8(signer.keyId)})`);
  }
  return signer;
}

/** Parses a verifier key `<name>+<id>+<base64(0x01 ‖ public key)>`. */
export function parseVerifierKey(text: string, where = 'the public key'): NoteVerifier {
  const parts = text.trim().split('+');
  const [name, id, ...rest] = parts;
  const data = Buffer.from(rest.join('+'), 'base64');
  if (
    name === undefined ||
    id === undefined ||
    rest.length === 0 ||
    !isKeyName(name) ||
    !/^[0-9a-f]{8}$/.test(id)
  ) {
    throw new InputError(
      `${where} is not a signed-note verifier key`,
      "it reads <name>+<8 hex digits>+<base64>; `plumbline audit key` prints the ledger's",
    );
  }
  if (data.length !== 33 || data[0] !== ALG_ED25519) {
    throw new InputError(`${where} is not an Ed25519 verifier key (type 0x01 and 32 bytes)`);
  }
  const verifier = verifierFromPublicKey(name, data.subarray(1));
  if (hex8(verifier.keyId) !== id) {
    throw new InputError(`${where}: its key ID ${id} does not match the key (${hex8(verifier.keyId)})`);
  }
  return verifier;
}

/** Signs `text` (which must end in a newline) and returns the note. */
export function signNote(text: string, signer: NoteSigner): string {
  const problem = textProblem(text);
  if (problem !== undefined) throw new InputError(`cannot sign the note: ${problem}`);
  const signature = Buffer.concat([uint32(signer.keyId), signer.sign(Buffer.from(text, 'utf8'))]);
  return `${text}\n— ${signer.name} ${signature.toString('base64')}\n`;
}

function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value, 0);
  return out;
}

/** Signed notes allow no ASCII control character but the newline. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && code !== 0x0a) return true;
  }
  return false;
}

function textProblem(text: string): string | undefined {
  if (!text.endsWith('\n')) return 'the text does not end with a newline';
  if (hasControlCharacter(text)) return 'the text holds a control character';
  if (/[\uD800-\uDFFF]/u.test(text)) return 'the text is not valid Unicode';
  return undefined;
}

/** Splits a note into its text and signature lines, or says why it is not a note. */
export function splitNote(
  note: string,
): { ok: true; text: string; signatures: NoteSignature[] } | { ok: false; reason: string } {
  if (hasControlCharacter(note)) return { ok: false, reason: 'the note holds a control character' };
  if (!note.endsWith('\n')) return { ok: false, reason: 'the note does not end with a newline' };
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return { ok: false, reason: 'the note has no blank line before its signatures' };
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES)
    return { ok: false, reason: `the note has over ${MAX_SIGNATURES} signatures` };
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    const match = /^— (\S+) ([A-Za-z0-9+/]+={0,2})$/.exec(line);
    if (match === null) return { ok: false, reason: `"${line.slice(0, 80)}" is not a signature line` };
    const raw = Buffer.from(match[2] as string, 'base64');
    if (raw.length < 5 || !isKeyName(match[1] as string)) {
      return { ok: false, reason: `"${line.slice(0, 80)}" is not a signature line` };
    }
    signatures.push({ name: match[1] as string, keyId: raw.readUInt32BE(0), signature: raw.subarray(4) });
  }
  return { ok: true, text, signatures };
}

/**
 * Opens a note with the verifiers one trusts: its text when a signature by one of them verifies. A
 * signature by a known key that fails rejects the whole note; signatures by unknown keys are ignored.
 */
export function openNote(
  note: string,
  verifiers: readonly NoteVerifier[],
): { ok: true; text: string; signedBy: NoteVerifier[] } | { ok: false; reason: string } {
  const split = splitNote(note);
  if (!split.ok) return split;
  const message = Buffer.from(split.text, 'utf8');
  const signedBy: NoteVerifier[] = [];
  for (const sig of split.signatures) {
    const known = verifiers.find((v) => v.name === sig.name && v.keyId === sig.keyId);
    if (known === undefined) continue;
    if (!known.verify(message, sig.signature)) {
      return {
        ok: false,
        reason: `the signature by ${sig.name}+${hex8(sig.keyId)} does not verify: the note was altered`,
      };
    }
    signedBy.push(known);
  }
  if (signedBy.length === 0) {
    const by = split.signatures.map((s) => `${s.name}+${hex8(s.keyId)}`).join(', ');
    const want = verifiers.map((v) => `${v.name}+${hex8(v.keyId)}`).join(', ');
    return { ok: false, reason: `it is signed by ${by}, not by the trusted key ${want}` };
  }
  return { ok: true, text: split.text, signedBy };
}

// --- the ledger's key files ---

export interface KeyLocation {
  /** The private key file (default DATA_DIR/audit-key); its public half is written beside it as `.pub`. */
  readonly privateKey: string;
  readonly publicKey: string;
}

export function keyLocation(dataDir: string, keyFile?: string): KeyLocation {
  const privateKey = keyFile ?? join(dataDir, KEY_FILE);
  return { privateKey, publicKey: keyFile === undefined ? join(dataDir, PUBLIC_KEY_FILE) : `${keyFile}.pub` };
}

/** A default key name: unique to this log, readable, and a valid key name. */
export function defaultKeyName(): string {
  const host =
    hostname()
      .toLowerCase()
      .replace(/[^a-z0-9.-]/g, '-')
      .replace(/^-+|-+$/g, '') || 'host';
  return `${host}/plumbline-audit/${createHash('sha256').update(String(Math.random())).update(String(Date.now())).digest('hex').slice(0, 8)}`;
}

/** Reads the private key file, refusing one that other users can read. */
export function loadSigner(path: string): NoteSigner {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    throw new InputError(
      `the audit key ${path} does not exist`,
      'it is created on the first start; or `plumbline audit key --create`',
    );
  }
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new InputError(
      `the audit key ${path} is readable by other users (mode ${(stat.mode & 0o777).toString(8)})`,
      `anyone who can read it can sign checkpoints: chmod 600 ${path}`,
    );
  }
  return parseSignerKey(readFileSync(path, 'utf8'), path);
}

/**
 * The ledger's signer: loaded from `location`, or created there when missing (mode 0600, written under a
 * temporary name and linked into place, so two starting processes cannot both create one).
 */
export function loadOrCreateSigner(
  location: KeyLocation,
  name: string = defaultKeyName(),
): { signer: NoteSigner; created: boolean } {
  if (existsSync(location.privateKey)) {
    const signer = loadSigner(location.privateKey);
    if (!existsSync(location.publicKey))
      writeFileSync(location.publicKey, `${signer.verifierKey}\n`, { mode: 0o644 });
    return { signer, created: false };
  }
  mkdirSync(dirname(location.privateKey), { recursive: true });
  const { signer, privateKeyText } = generateSigner(name);
  const temp = `${location.privateKey}.tmp-${process.pid}-${Date.now()}`;
  writeFileSync(temp, `${privateKeyText}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(temp, 0o600);
  try {
    linkSync(temp, location.privateKey);
  } catch (error) {
    unlinkSync(temp);
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      return { signer: loadSigner(location.privateKey), created: false };
    throw error;
  }
  unlinkSync(temp);
  writeFileSync(location.publicKey, `${signer.verifierKey}\n`, { mode: 0o644 });
  return { signer, created: true };
}

/** A verifier from a verifier key given inline, or from a file holding one. */
export function loadVerifier(keyOrFile: string): NoteVerifier {
  if (!existsSync(keyOrFile) && /^[^+\s]+\+[0-9a-f]{8}\+/.test(keyOrFile.trim())) {
    return parseVerifierKey(keyOrFile, 'the key given');
  }
  let text: string;
  try {
    text = readFileSync(keyOrFile, 'utf8');
  } catch {
    throw new InputError(
      `${keyOrFile} is neither a verifier key nor a readable file`,
      'pass the output of `plumbline audit key` (name+id+base64), or a file holding it',
    );
  }
  if (text.startsWith('PRIVATE+KEY+')) {
    throw new InputError(
      `${keyOrFile} is a private key`,
      'verify with the public key (the .pub file), and keep the private key where it was',
    );
  }
  return parseVerifierKey(text, keyOrFile);
}
