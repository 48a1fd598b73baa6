// age for SOPS (getsops/sops age/keysource.go): the 32-byte data key is encrypted to each X25519 recipient
// (`age1…`) and stored as an armored age file in `sops.age[].enc`. Identities (`AGE-SECRET-KEY-1…`) come from
// identity files or environment variables; they are held in a private field, so printing, logging or
// JSON-serialising an AgeIdentities object shows only the public recipients.
// The age implementation is age-encryption (FiloSottile's typage): see ARCHITECTURE.md for why.
import { hkdfSync } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { armor, Decrypter, Encrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { DATA_KEY_BYTES } from './cipher.js';
import { SecretsError } from './errors.js';
import type { AgeStanza } from './metadata.js';

const MAX_IDENTITY_FILE_BYTES = 1024 * 1024;
const RECIPIENT_RE = /^age1[02-9ac-hj-np-z]{58}$/;

/** A set of age identities. The secret keys never leave this object except into the age decrypter. */
export class AgeIdentities {
  readonly #keys: readonly string[];
  /** The public keys (`age1…`) of the identities, safe to show. */
  readonly recipients: readonly string[];
  /** Where they came from (a file path or an environment variable name), for messages. */
  readonly source: string;

  private constructor(keys: readonly string[], recipients: readonly string[], source: string) {
    this.#keys = keys;
    this.recipients = recipients;
    this.source = source;
    Object.freeze(this);
  }

  /** Parses identity-file text: one `AGE-SECRET-KEY-1…` per line, `#` comments and blank lines ignored. */
  static async parse(text: string, source: string): Promise<AgeIdentities> {
    const keys: string[] = [];
    const recipients: string[] = [];
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const line = (lines[i] ?? '').trim();
      if (line === '' || line.startsWith('#')) continue;
      if (!line.startsWith('AGE-SECRET-KEY-')) {
        throw new SecretsError(
          'no-identity',
          `line ${i + 1} of ${source} is not an age identity (AGE-SECRET-KEY-1…)`,
          {
            hint: 'an identity file holds lines made by `plumbline secrets keygen` or `age-keygen`; age plugin and SSH keys are not supported',
          },
        );
      }
      try {
        recipients.push(await identityToRecipient(line));
      } catch {
        throw new SecretsError('no-identity', `line ${i + 1} of ${source} is a damaged age identity`, {
          hint: 'copy the whole AGE-SECRET-KEY-1… line again',
        });
      }
      keys.push(line);
    }
    if (keys.length === 0) {
      throw new SecretsError('no-identity', `${source} holds no age identity`, {
        hint: 'create one with `plumbline secrets keygen --output FILE`',
      });
    }
    return new AgeIdentities(keys, recipients, source);
  }

  /** Decrypts an armored age file with these identities; undefined when none of them is a recipient. */
  async open(armored: string): Promise<Uint8Array | undefined> {
    let file: Uint8Array;
    try {
      file = armor.decode(armored.trim());
    } catch {
      throw new SecretsError('malformed', 'an age stanza (sops.age[].enc) is not an armored age file', {
        hint: 'restore the file from Git',
      });
    }
    const decrypter = new Decrypter();
    for (const key of this.#keys) decrypter.addIdentity(key);
    try {
      return await decrypter.decrypt(file);
    } catch (error) {
      if (/no identity matched/i.test((error as Error).message)) return undefined;
      throw new SecretsError('tampered', 'an age stanza (sops.age[].enc) does not decrypt', {
        hint: 'the wrapped data key was damaged; restore the file from Git',
      });
    }
  }

  /**
   * A 32-byte key derived from the identities (HKDF-SHA256) for `purpose`: stable for as long as the
   * identities are, and useless to anyone without them.
   */
  deriveKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#keys.join('\n'), 'plumbline', purpose, 32));
  }

  toJSON(): { recipients: readonly string[]; source: string } {
    return { recipients: this.recipients, source: this.source };
  }

  [inspect.custom](): string {
    return `AgeIdentities { source: ${this.source}, recipients: [${this.recipients.join(', ')}] }`;
  }
}

export function isAgeRecipient(value: string): boolean {
  return RECIPIENT_RE.test(value);
}

/** Splits `age1…,age1…` (commas, spaces or newlines) and checks each recipient. */
export function parseRecipients(value: string | readonly string[]): string[] {
  const parts = (typeof value === 'string' ? [value] : value)
    .flatMap((v) => v.split(/[\s,]+/))
    .filter((v) => v !== '');
  for (const r of parts) {
    if (!isAgeRecipient(r)) {
      const shown = r.startsWith('AGE-SECRET-KEY')
        ? 'AGE-SECRET-KEY-… (a secret key!)'
        : JSON.stringify(r.slice(0, 80));
      throw new SecretsError('usage', `${shown} is not an age recipient`, {
        hint: r.startsWith('AGE-SECRET-KEY')
          ? 'give the public key (age1…), which `plumbline secrets keygen` prints; never the secret key'
          : 'an X25519 recipient looks like age1 followed by 58 letters and digits (`plumbline secrets keygen` prints one)',
      });
    }
  }
  return [...new Set(parts)];
}

/** Wraps the data key for one recipient: an armored age file, as `sops.age[].enc` holds it. */
export async function wrapDataKey(dataKey: Uint8Array, recipient: string): Promise<AgeStanza> {
  const encrypter = new Encrypter();
  encrypter.addRecipient(recipient);
  return { recipient, enc: armor.encode(await encrypter.encrypt(dataKey)) };
}

/**
 * Finds the data key: tries every age stanza with the identities (the first that opens wins, as in SOPS).
 * Throws `no-identity` listing the file's recipients when none of the identities is one of them.
 */
export async function unwrapDataKey(
  stanzas: readonly AgeStanza[],
  identities: AgeIdentities,
): Promise<Uint8Array> {
  if (stanzas.length === 0) {
    throw new SecretsError('unsupported', 'has no age recipients (sops.age is empty)', {
      hint: 'the file is encrypted for other kinds of keys (PGP, KMS, Vault transit); decrypt it with the sops CLI, or re-encrypt it for an age recipient',
    });
  }
  for (const stanza of stanzas) {
    const key = await identities.open(stanza.enc);
    if (key === undefined) continue;
    if (key.length !== DATA_KEY_BYTES) {
      throw new SecretsError(
        'tampered',
        `the data key in the stanza for ${stanza.recipient} is ${key.length} bytes, not 32`,
        {
          hint: 'restore the file from Git',
        },
      );
    }
    return key;
  }
  throw new SecretsError(
    'no-identity',
    `none of the age identities from ${identities.source} (${identities.recipients.join(', ')}) can decrypt it; it is encrypted for ${stanzas.map((s) => s.recipient).join(', ')}`,
    {
      hint: 'use the identity of one of those recipients (--identity FILE, SOPS_AGE_KEY_FILE or SOPS_AGE_KEY)',
    },
  );
}

/** A new X25519 key pair; `identityFile` is the text of an identity file as age-keygen writes it. */
export async function generateKeyPair(
  now: Date = new Date(),
): Promise<{ recipient: string; identityFile: string }> {
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  const created = now.toISOString().replace(/\.\d+Z$/, 'Z');
  return { recipient, identityFile: `# created: ${created}\n# public key: ${recipient}\n${identity}\n` };
}

function readIdentityFile(path: string): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SecretsError(
      'no-identity',
      `the age identity file ${path} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}`,
      {
        hint: 'create one with `plumbline secrets keygen --output FILE`, or point at the right file',
      },
    );
  }
  if (size > MAX_IDENTITY_FILE_BYTES) {
    throw new SecretsError('no-identity', `${path} is ${size} bytes: not an age identity file`, {
      hint: 'point at the file `plumbline secrets keygen` wrote',
    });
  }
  return readFileSync(path, 'utf8');
}

/**
 * The controller's identity, from a file or from an environment variable named at start-up (never from the
 * repository). Exactly one of `file` and `envVar`.
 */
export async function loadIdentity(options: {
  file?: string;
  envVar?: string;
  env?: NodeJS.ProcessEnv;
}): Promise<AgeIdentities> {
  const env = options.env ?? process.env;
  if ((options.file === undefined) === (options.envVar === undefined)) {
    throw new SecretsError(
      'usage',
      'name the age identity with a file or with an environment variable, not both or neither',
      {
        hint: 'e.g. --age-identity-file /etc/plumbline/age.key or --age-identity-env PLUMBLINE_AGE_KEY',
      },
    );
  }
  if (options.file !== undefined) return AgeIdentities.parse(readIdentityFile(options.file), options.file);
  const name = options.envVar as string;
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new SecretsError('no-identity', `the environment variable ${name} is not set`, {
      hint: `set ${name} to the contents of an age identity file (AGE-SECRET-KEY-1…)`,
    });
  }
  return AgeIdentities.parse(value, `$${name}`);
}

/**
 * The identities the CLI uses, in the order SOPS looks: --identity, $SOPS_AGE_KEY_FILE, $SOPS_AGE_KEY, then
 * the sops default file ($XDG_CONFIG_HOME or ~/.config)/sops/age/keys.txt.
 */
export async function cliIdentities(
  identityFile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AgeIdentities> {
  if (identityFile !== undefined) return loadIdentity({ file: identityFile, env });
  if (env.SOPS_AGE_KEY_FILE !== undefined && env.SOPS_AGE_KEY_FILE !== '')
    return loadIdentity({ file: env.SOPS_AGE_KEY_FILE, env });
  if (env.SOPS_AGE_KEY !== undefined && env.SOPS_AGE_KEY.trim() !== '')
    return loadIdentity({ envVar: 'SOPS_AGE_KEY', env });
  const base =
    env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== ''
      ? env.XDG_CONFIG_HOME
      : join(env.HOME ?? homedir(), '.config');
  const fallback = join(base, 'sops', 'age', 'keys.txt');
  try {
    statSync(fallback);
  } catch {
    throw new SecretsError('no-identity', 'no age identity: none was given and none was found', {
      hint: `pass --identity FILE, set SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, or put your key in ${fallback}`,
    });
  }
  return loadIdentity({ file: fallback, env });
}
