// Whole SOPS documents: encrypt a plain file for age recipients, decrypt one (MAC verified: a tampered file
// is refused), and re-encrypt an edited plaintext with the file's own data key, as `sops edit` does (IVs of
// unchanged values are reused, so an edit changes only the lines it touched).

import { type AgeIdentities, parseRecipients, unwrapDataKey, wrapDataKey } from './age.js';
import { decryptValue, encryptValue, IvStash, newDataKey } from './cipher.js';
import { inFile, SecretsError } from './errors.js';
import {
  macAad,
  metadataFromTree,
  metadataToTree,
  nowRfc3339,
  SOPS_FORMAT_VERSION,
  type SopsMetadata,
} from './metadata.js';
import { type SopsFormat, storeFor } from './stores/index.js';
import {
  cloneTree,
  DEFAULT_UNENCRYPTED_SUFFIX,
  decryptBranches,
  type EncryptionRules,
  encryptBranches,
  type TreeMap,
} from './tree.js';

/** Files larger than this are refused before parsing: secrets files are small, and parsing is in memory. */
export const DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024;

export interface EncryptOptions {
  readonly format: SopsFormat;
  /** For messages only. */
  readonly file: string;
  /** age recipients (`age1…`), at least one. */
  readonly recipients: readonly string[];
  readonly rules?: EncryptionRules;
  readonly now?: Date;
  readonly maxBytes?: number;
}

export interface DecryptOptions {
  readonly format: SopsFormat;
  readonly file: string;
  readonly identities: AgeIdentities;
  readonly maxBytes?: number;
}

/**
 * A decrypted document, in memory only. The data key is held privately for `reencrypt`; printing the object
 * shows neither the key nor the values.
 */
export class DecryptedDocument {
  readonly format: SopsFormat;
  readonly file: string;
  readonly branches: readonly TreeMap[];
  readonly metadata: SopsMetadata;
  readonly #dataKey: Uint8Array;
  readonly #stash: IvStash;

  constructor(
    format: SopsFormat,
    file: string,
    branches: TreeMap[],
    metadata: SopsMetadata,
    dataKey: Uint8Array,
    stash: IvStash,
  ) {
    this.format = format;
    this.file = file;
    this.branches = branches;
    this.metadata = metadata;
    this.#dataKey = dataKey;
    this.#stash = stash;
  }

  /** The plaintext file, in the document's format. */
  plaintext(): Buffer {
    return storeFor(this.format).emitPlain(this.branches);
  }

  /**
   * Encrypts `plaintext` (an edited version of this document, in the same format) with this document's data
   * key and age stanzas, a new lastmodified and MAC. Values that did not change keep their ciphertext.
   */
  reencrypt(plaintext: Buffer, options: { now?: Date; maxBytes?: number } = {}): Buffer {
    checkSize(plaintext, this.file, options.maxBytes);
    const store = storeFor(this.format);
    let branches: TreeMap[];
    try {
      branches = store.loadPlain(plaintext, this.file);
    } catch (error) {
      inFile(error, this.file);
    }
    return sealBranches(
      this.format,
      this.file,
      branches,
      this.#dataKey,
      this.metadata,
      this.#stash,
      options.now,
    );
  }

  /** Forgets the data key and IVs (best effort: JavaScript cannot promise the memory is wiped). */
  dispose(): void {
    this.#dataKey.fill(0);
    this.#stash.clear();
  }

  toJSON(): { file: string; format: SopsFormat; recipients: string[] } {
    return { file: this.file, format: this.format, recipients: this.metadata.age.map((a) => a.recipient) };
  }
}

function checkSize(input: Buffer, file: string, maxBytes = DEFAULT_MAX_FILE_BYTES): void {
  if (input.length > maxBytes) {
    throw new SecretsError(
      'too-large',
      `is ${input.length} bytes; the limit for a secrets file is ${maxBytes} bytes`,
      {
        file,
        hint: 'keep secrets files small: one per app or environment',
      },
    );
  }
}

function sealBranches(
  format: SopsFormat,
  file: string,
  branches: TreeMap[],
  dataKey: Uint8Array,
  meta: Omit<SopsMetadata, 'mac' | 'lastModified'>,
  stash: IvStash | undefined,
  now: Date | undefined,
): Buffer {
  let mac: string;
  try {
    mac = encryptBranches(branches, dataKey, meta, stash);
  } catch (error) {
    inFile(error, file);
  }
  const lastModified = nowRfc3339(now);
  const metadata: SopsMetadata = {
    ...meta,
    lastModified,
    mac: encryptValue(mac, dataKey, macAad(lastModified)),
  };
  return storeFor(format).emitEncrypted(branches, metadataToTree(metadata));
}

/** Encrypts a plain file for age recipients with a new data key. */
export async function encryptDocument(input: Buffer, options: EncryptOptions): Promise<Buffer> {
  checkSize(input, options.file, options.maxBytes);
  const recipients = parseRecipients(options.recipients);
  if (recipients.length === 0) {
    throw new SecretsError('usage', 'no age recipients to encrypt for', {
      file: options.file,
      hint: 'pass --age age1…, set SOPS_AGE_RECIPIENTS, or add a creation rule with age: to .sops.yaml',
    });
  }
  const store = storeFor(options.format);
  let branches: TreeMap[];
  try {
    branches = store.loadPlain(input, options.file);
  } catch (error) {
    inFile(error, options.file);
  }
  if (branches.length === 0) {
    throw new SecretsError('usage', 'is empty: there is nothing to encrypt', {
      file: options.file,
      hint: 'write at least one key: value',
    });
  }
  const dataKey = newDataKey();
  try {
    const age = await Promise.all(recipients.map((r) => wrapDataKey(dataKey, r)));
    const given = options.rules ?? {};
    // Without a rule, SOPS writes its default explicitly: values of keys ending in _unencrypted stay plain.
    const rules: EncryptionRules =
      given.unencryptedSuffix || given.encryptedSuffix || given.unencryptedRegex || given.encryptedRegex
        ? given
        : { ...given, unencryptedSuffix: DEFAULT_UNENCRYPTED_SUFFIX };
    const meta = { ...rules, age, version: SOPS_FORMAT_VERSION, preserved: [] };
    return sealBranches(options.format, options.file, branches, dataKey, meta, undefined, options.now);
  } finally {
    dataKey.fill(0);
  }
}

/** True when `input` parses as an encrypted file of `format` (it has SOPS metadata). */
export function isEncrypted(input: Buffer, format: SopsFormat, file: string): boolean {
  try {
    return storeFor(format).loadEncrypted(input, file) !== undefined;
  } catch {
    return false;
  }
}

/**
 * Decrypts a SOPS file and verifies its MAC. A file changed after encryption (a value, a key, the order,
 * lastmodified or the MAC itself) is refused with a `tampered` error naming the file.
 */
export async function decryptDocument(input: Buffer, options: DecryptOptions): Promise<DecryptedDocument> {
  const { file, format } = options;
  checkSize(input, file, options.maxBytes);
  const store = storeFor(format);
  try {
    const loaded = store.loadEncrypted(input, file);
    if (loaded === undefined) {
      throw new SecretsError('malformed', 'is not encrypted with SOPS (it has no sops metadata)', {
        hint:
          format === 'binary'
            ? 'if it is YAML, JSON or dotenv, name the format with --format (the name did not tell)'
            : 'encrypt it first with `plumbline secrets encrypt`',
      });
    }
    const metadata = metadataFromTree(loaded.metadata, loaded.metadataLine);
    const dataKey = await unwrapDataKey(metadata.age, options.identities);
    const stash = new IvStash();
    const branches = loaded.branches.map((b) => cloneTree(b));
    const computed = decryptBranches(branches, dataKey, metadata, stash);
    let stored: unknown;
    try {
      stored = decryptValue(metadata.mac, dataKey, macAad(metadata.lastModified));
    } catch {
      stored = undefined;
    }
    if (stored !== computed) {
      throw new SecretsError('tampered', 'MAC mismatch: the file was changed after it was encrypted', {
        hint: 'someone edited values, keys, their order or the sops metadata without SOPS; restore the file from Git, or re-create the change with `plumbline secrets edit`',
      });
    }
    return new DecryptedDocument(format, file, branches, metadata, dataKey, stash);
  } catch (error) {
    inFile(error, file);
  }
}
