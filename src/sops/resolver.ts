// Secret references for the controller: an App's environment may name a key of a SOPS file in the
// repository, or a key of a Vault KV v2 secret, instead of holding a value. The resolver turns them into the
// plain environment (in memory only, for the instances' process environment) and a digest that changes
// whenever a referenced secret changes, without revealing it: HMAC-SHA256 over the resolved values with a key
// derived from the controller's age identity (or given), so the controller folds it into the App's spec hash
// and a changed secret redeploys the apps that use it. Errors name the app, the variable, the file and key,
// never a value.
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { AgeIdentities } from './age.js';
import { formatFloat, isComment } from './cipher.js';
import { DEFAULT_MAX_FILE_BYTES, type DecryptedDocument, decryptDocument } from './document.js';
import { SecretsError } from './errors.js';
import { formatForPath } from './stores/index.js';
import { isList, isMap, lookup, type TreeValue, topLevelKeys } from './tree.js';
import { createVaultClient, type VaultClient, type VaultClientOptions } from './vault.js';

/** A key of a SOPS file in the repository (path relative to the repository root). */
export interface FileSecretRef {
  readonly file: string;
  readonly key: string;
}

/** A key of a Vault KV v2 secret, e.g. { path: 'secret/data/web', key: 'password' }. */
export interface VaultSecretRef {
  readonly vault: { readonly path: string; readonly key: string };
}

export type SecretRef = FileSecretRef | VaultSecretRef;

/** An App's environment value: a plain string, or a reference to a secret. */
export type EnvValue = string | { readonly secretRef: SecretRef };

export interface SecretResolverOptions {
  /** The controller's age identity (see loadIdentity); needed for file references. */
  readonly identity?: AgeIdentities;
  /** A Vault client, or the options to build one (vaultOptionsFromEnv()); needed for vault references. */
  readonly vault?: VaultClient | VaultClientOptions;
  /**
   * The HMAC key of the secret digest. By default it is derived from the identity; with Vault references
   * only and no identity, pass a stable random key (e.g. kept in the data directory): otherwise a key is
   * made per process, and every app that uses a secret is redeployed once after a controller restart.
   */
  readonly digestKey?: Uint8Array;
  /** Default repository folder, for calls whose context has none. */
  readonly repoDir?: string;
  readonly maxFileBytes?: number;
}

export interface ResolveContext {
  /** The folder the revision is materialised in; file references are relative to it. */
  readonly repoDir?: string;
  /** For messages: the app, and where its document is. */
  readonly app?: string;
  readonly source?: { readonly file: string; readonly line: number };
  readonly signal?: AbortSignal;
}

export interface ResolvedEnv {
  /** Every variable, plain and resolved: for the process environment only, never to be logged or stored. */
  readonly env: Record<string, string>;
  /** `hmac-sha256:<hex>` over the referenced secrets, or '' when the environment references none. */
  readonly digest: string;
  /** The names of the variables that came from secrets (for redaction in diffs and logs). */
  readonly secretNames: readonly string[];
}

export interface SecretResolver {
  resolveEnv(env: Readonly<Record<string, EnvValue>>, context?: ResolveContext): Promise<ResolvedEnv>;
  /** Only the digest (resolves the secrets, keeps nothing). */
  secretDigest(env: Readonly<Record<string, EnvValue>>, context?: ResolveContext): Promise<string>;
}

export function isSecretRef(value: EnvValue): value is { readonly secretRef: SecretRef } {
  return typeof value === 'object' && value !== null && 'secretRef' in value;
}

/** The App schema keeps plain values in `env` and references in `secretRefs`; this merges them back. */
export function envValuesOf(process: {
  readonly env: Readonly<Record<string, string>>;
  readonly secretRefs?: Readonly<Record<string, SecretRef>> | undefined;
}): Record<string, EnvValue> {
  const out: Record<string, EnvValue> = { ...process.env };
  for (const [name, secretRef] of Object.entries(process.secretRefs ?? {})) out[name] = { secretRef };
  return out;
}

/** True when any value of `env` is a secret reference. */
export function hasSecretRefs(env: Readonly<Record<string, EnvValue>>): boolean {
  return Object.values(env).some(isSecretRef);
}

function describeRef(ref: SecretRef): string {
  return 'vault' in ref ? `vault ${ref.vault.path} key ${ref.vault.key}` : `${ref.file} key ${ref.key}`;
}

function envString(value: TreeValue, ref: FileSecretRef): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return formatFloat(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  const what =
    value === null
      ? 'empty (null)'
      : isMap(value)
        ? 'a mapping'
        : isList(value)
          ? 'a list'
          : isComment(value)
            ? 'a comment'
            : 'not a value';
  throw new SecretsError('missing-key', `the key ${ref.key} is ${what}, not a value`, {
    file: ref.file,
    hint: 'reference a key whose value is a string, number or boolean (nested keys as a.b)',
  });
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** Builds a resolver; options are checked once, here. */
export function createSecretResolver(options: SecretResolverOptions = {}): SecretResolver {
  const vault =
    options.vault === undefined
      ? undefined
      : 'read' in options.vault
        ? options.vault
        : createVaultClient(options.vault);
  const digestKey =
    options.digestKey ?? options.identity?.deriveKey('plumbline secret digest v1') ?? randomBytes(32);
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;

  async function resolveFile(
    ref: FileSecretRef,
    repoDir: string,
    cache: Map<string, Promise<DecryptedDocument>>,
  ): Promise<string> {
    const identity = options.identity;
    if (identity === undefined) {
      throw new SecretsError(
        'no-identity',
        'the controller has no age identity to decrypt secrets files with',
        {
          file: ref.file,
          hint: 'start the controller with an age identity file or environment variable',
        },
      );
    }
    const root = realpathSync(repoDir);
    const wanted = resolve(root, ref.file);
    if (!inside(root, wanted)) {
      throw new SecretsError('usage', 'a secrets file must be inside the repository', {
        file: ref.file,
        hint: 'use a path relative to the repository root, e.g. secrets/web.sops.yaml',
      });
    }
    let real: string;
    try {
      real = realpathSync(wanted);
    } catch {
      throw new SecretsError('not-found', 'the secrets file does not exist at this revision', {
        file: ref.file,
        hint: 'commit it, or fix the path (relative to the repository root)',
      });
    }
    if (!inside(root, real)) {
      throw new SecretsError('usage', 'the secrets file is a link that leads outside the repository', {
        file: ref.file,
        hint: 'commit the file itself',
      });
    }
    let doc = cache.get(real);
    if (doc === undefined) {
      doc = (async () => {
        const size = statSync(real).size;
        if (size > maxBytes) {
          throw new SecretsError(
            'too-large',
            `is ${size} bytes; the limit for a secrets file is ${maxBytes} bytes`,
            {
              file: ref.file,
              hint: 'keep secrets files small',
            },
          );
        }
        return decryptDocument(readFileSync(real), {
          file: ref.file,
          format: formatForPath(ref.file),
          identities: identity,
          maxBytes,
        });
      })();
      cache.set(real, doc);
    }
    const decrypted = await doc;
    const value = lookup(decrypted.branches, ref.key);
    if (value === undefined) {
      const names = topLevelKeys(decrypted.branches);
      throw new SecretsError('missing-key', `has no key ${ref.key}`, {
        file: ref.file,
        hint: names.length === 0 ? 'the file holds no keys' : `it has: ${names.slice(0, 20).join(', ')}`,
      });
    }
    return envString(value, ref);
  }

  async function resolveEnv(
    env: Readonly<Record<string, EnvValue>>,
    context: ResolveContext = {},
  ): Promise<ResolvedEnv> {
    const out: Record<string, string> = {};
    const secretNames: string[] = [];
    const hmac = createHmac('sha256', digestKey);
    const cache = new Map<string, Promise<DecryptedDocument>>();
    const repoDir = context.repoDir ?? options.repoDir;
    if (options.identity !== undefined && repoDir !== undefined && !options.identity.source.startsWith('$')) {
      if (inside(realpathSync(repoDir), resolve(options.identity.source))) {
        throw new SecretsError('usage', 'the age identity file is inside the repository being deployed', {
          file: options.identity.source,
          hint: 'keep the identity outside the repository (a file only the controller can read, or an environment variable)',
        });
      }
    }
    try {
      for (const name of Object.keys(env).sort()) {
        const value = env[name] as EnvValue;
        if (!isSecretRef(value)) {
          out[name] = value;
          continue;
        }
        const ref = value.secretRef;
        let resolved: string;
        try {
          if ('vault' in ref) {
            if (vault === undefined) {
              throw new SecretsError(
                'usage',
                'references Vault, but the controller has no Vault configured',
                {
                  hint: 'set VAULT_ADDR and VAULT_TOKEN (or VAULT_ROLE_ID and VAULT_SECRET_ID) for the controller',
                },
              );
            }
            resolved = await vault.readKey(
              ref.vault.path,
              ref.vault.key,
              context.signal === undefined ? {} : { signal: context.signal },
            );
          } else {
            if (repoDir === undefined) {
              throw new SecretsError('usage', 'no repository folder to find the secrets file in', {
                hint: 'pass context.repoDir (the folder the revision is materialised in)',
              });
            }
            resolved = await resolveFile(ref, repoDir, cache);
          }
        } catch (error) {
          if (error instanceof SecretsError) {
            const app = context.app === undefined ? '' : `app ${context.app}, `;
            const at = context.source === undefined ? '' : ` (${context.source.file}:${context.source.line})`;
            throw new SecretsError(
              error.reason,
              `${app}env ${name} (${describeRef(ref)})${at}: ${error.message}`,
              {
                ...(error.hint === undefined ? {} : { hint: error.hint }),
                transient: error.transient,
              },
            );
          }
          throw error;
        }
        out[name] = resolved;
        secretNames.push(name);
        hmac.update(`${name}\u0000${describeRef(ref)}\u0000${Buffer.byteLength(resolved)}\u0000`);
        hmac.update(resolved);
        hmac.update('\u0000');
      }
    } finally {
      for (const doc of cache.values())
        doc.then(
          (d) => d.dispose(),
          () => undefined,
        );
    }
    return {
      env: out,
      digest: secretNames.length === 0 ? '' : `hmac-sha256:${hmac.digest('hex')}`,
      secretNames,
    };
  }

  return {
    resolveEnv,
    async secretDigest(env, context) {
      return (await resolveEnv(env, context)).digest;
    },
  };
}
