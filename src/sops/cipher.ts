// The SOPS value cipher: AES-256-GCM with a 32-byte data key and a 32-byte IV, the key path as additional
// data, written as `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` (getsops/sops aes/cipher.go). The type tells
// how to read the plaintext back: str, int, float, bool, bytes or comment.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SecretsError } from './errors.js';

/** A comment of a YAML or dotenv file; SOPS encrypts comments too, but leaves them out of the MAC. */
export interface SopsComment {
  readonly kind: 'comment';
  readonly text: string;
}

/** A leaf value. Integers are bigint and floats number, so the two keep their SOPS types (`int`, `float`). */
export type Scalar = string | bigint | number | boolean | Uint8Array;

export type ValueType = 'str' | 'int' | 'float' | 'bool' | 'bytes' | 'comment';

export const DATA_KEY_BYTES = 32;
const IV_BYTES = 32;
const TAG_BYTES = 16;
const ENC_RE =
  /^ENC\[AES256_GCM,data:([A-Za-z0-9+/=]+),iv:([A-Za-z0-9+/=]+),tag:([A-Za-z0-9+/=]+),type:([a-z0-9]+)\]$/;

export function comment(text: string): SopsComment {
  return { kind: 'comment', text };
}

export function isComment(value: unknown): value is SopsComment {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'comment';
}

/** True for a string in the SOPS encrypted-value format. */
export function isEncryptedValue(value: unknown): value is string {
  return typeof value === 'string' && ENC_RE.test(value);
}

/**
 * Remembers the IV used for each (additional data, plaintext bytes), as SOPS does, so that decrypting and
 * re-encrypting an unchanged value writes the same ciphertext: an edit changes only the lines it touched.
 */
export class IvStash {
  readonly #ivs = new Map<string, Buffer>();

  /**
   * Keyed by additional data and plaintext bytes only: the same IV is used again only for the very same
   * bytes under the same key path, which yields the very same ciphertext (never a GCM nonce reuse).
   */
  static key(aad: string, plaintext: Uint8Array): string {
    return `${aad}\u0000${Buffer.from(plaintext).toString('base64')}`;
  }

  get(key: string): Buffer | undefined {
    return this.#ivs.get(key);
  }

  set(key: string, iv: Buffer): void {
    this.#ivs.set(key, iv);
  }

  clear(): void {
    this.#ivs.clear();
  }
}

/** The bytes SOPS hashes into the MAC and encrypts for a value (sops.go ToBytes, aes/cipher.go Encrypt). */
export function valueBytes(value: Scalar | SopsComment): { type: ValueType; bytes: Uint8Array } {
  if (isComment(value)) return { type: 'comment', bytes: Buffer.from(value.text, 'utf8') };
  if (typeof value === 'string') return { type: 'str', bytes: Buffer.from(value, 'utf8') };
  if (value instanceof Uint8Array) return { type: 'str', bytes: value };
  if (typeof value === 'bigint') return { type: 'int', bytes: Buffer.from(value.toString(), 'utf8') };
  if (typeof value === 'number') return { type: 'float', bytes: Buffer.from(formatFloat(value), 'utf8') };
  // The Python original wrote booleans title-cased, and Go SOPS kept that.
  return { type: 'bool', bytes: Buffer.from(value ? 'True' : 'False', 'utf8') };
}

/** Encrypts one value; empty strings and empty comments stay empty, as in SOPS. */
export function encryptValue(
  value: Scalar | SopsComment,
  dataKey: Uint8Array,
  aad: string,
  stash?: IvStash,
): string {
  const { type, bytes } = valueBytes(value);
  if (bytes.length === 0 && (type === 'str' || type === 'comment')) return '';
  const stashKey = stash === undefined ? '' : IvStash.key(aad, bytes);
  const iv = stash?.get(stashKey) ?? randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(bytes), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `ENC[AES256_GCM,data:${data.toString('base64')},iv:${iv.toString('base64')},tag:${tag.toString('base64')},type:${type}]`;
}

/**
 * Decrypts one value. Throws `tampered` when authentication fails (a changed value, or one moved under
 * another key: the key path is the additional data) and `malformed` when the text is not an encrypted value.
 * The message never includes the value.
 */
export function decryptValue(
  text: string,
  dataKey: Uint8Array,
  aad: string,
  stash?: IvStash,
): Scalar | SopsComment {
  if (text === '') return '';
  const m = ENC_RE.exec(text);
  if (m === null) {
    throw new SecretsError(
      'tampered',
      'a value that should be encrypted is not in the ENC[AES256_GCM,…] format',
      {
        hint: 'the file was edited by hand or a value was replaced in plain text; restore it from Git or re-create the value with `plumbline secrets edit`',
      },
    );
  }
  const [, data64 = '', iv64 = '', tag64 = '', type = ''] = m;
  const iv = Buffer.from(iv64, 'base64');
  const tag = Buffer.from(tag64, 'base64');
  if (iv.length === 0 || tag.length !== TAG_BYTES) {
    throw new SecretsError(
      'tampered',
      `an encrypted value has a ${iv.length}-byte IV and a ${tag.length}-byte tag`,
      {
        hint: 'restore the file from Git',
      },
    );
  }
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    plain = Buffer.concat([decipher.update(Buffer.from(data64, 'base64')), decipher.final()]);
  } catch {
    throw new SecretsError('tampered', 'an encrypted value fails authentication', {
      hint: 'the value was changed or moved under another key after it was encrypted; restore the file from Git',
    });
  }
  const value = fromPlaintext(type, plain);
  stash?.set(IvStash.key(aad, plain), iv);
  return value;
}

function fromPlaintext(type: string, plain: Buffer): Scalar | SopsComment {
  const text = plain.toString('utf8');
  switch (type) {
    case 'str':
      // Go strings hold any bytes; keep them as bytes when they are not UTF-8 (the binary format).
      return Buffer.from(text, 'utf8').equals(plain) ? text : new Uint8Array(plain);
    case 'int':
    case 'int64':
      if (!/^[+-]?\d+$/.test(text)) throw typeError(type);
      return BigInt(text);
    case 'float': {
      const n = parseGoFloat(text);
      if (n === undefined) throw typeError(type);
      return n;
    }
    case 'bool': {
      if (/^(1|t|T|TRUE|true|True)$/.test(text)) return true;
      if (/^(0|f|F|FALSE|false|False)$/.test(text)) return false;
      throw typeError(type);
    }
    case 'bytes':
      return new Uint8Array(plain);
    case 'comment':
      return comment(text);
    default:
      throw new SecretsError(
        'unsupported',
        `an encrypted value has the unknown type "${type.slice(0, 20)}"`,
        {
          hint: 'the file was written by a newer SOPS; decrypt it with that version',
        },
      );
  }
}

function typeError(type: string): SecretsError {
  return new SecretsError('malformed', `an encrypted value of type ${type} does not hold a ${type}`, {
    hint: 'restore the file from Git',
  });
}

function parseGoFloat(text: string): number | undefined {
  if (/^[+-]?(inf|infinity)$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return Number.NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest digits that read back exactly, never an exponent. */
export function formatFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Object.is(value, -0)) return '-0';
  const text = String(value);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (m === null) return text;
  const [, sign = '', head = '', tail = '', exp = '0'] = m;
  const digits = head + tail;
  const point = 1 + Number(exp); // position of the decimal point within `digits`
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

export function newDataKey(): Buffer {
  return randomBytes(DATA_KEY_BYTES);
}
