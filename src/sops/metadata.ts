// The `sops` metadata block (getsops/sops stores/stores.go): the data key wrapped for each master key, the
// encrypted MAC, the time of the last change, the rule that chose which values to encrypt, and the format
// version. Plumbline opens the age stanzas; stanzas of other kinds (PGP, KMS, Vault transit…) are kept as
// they are, so editing a file that also has them does not drop them.
import { SecretsError } from './errors.js';
import {
  type EncryptionRules,
  isList,
  isMap,
  list,
  map,
  type TreeItem,
  type TreeMap,
  type TreeValue,
} from './tree.js';

/** The SOPS format version written into new files: the 3.x file format, as SOPS 3.9+ writes it. */
export const SOPS_FORMAT_VERSION = '3.9.0';

export interface AgeStanza {
  readonly recipient: string;
  /** The 32-byte data key as an armored age file. */
  readonly enc: string;
}

export interface SopsMetadata extends EncryptionRules {
  readonly age: readonly AgeStanza[];
  /** RFC 3339 in UTC; the additional data of the encrypted MAC. */
  readonly lastModified: string;
  /** The MAC as an encrypted value. */
  readonly mac: string;
  readonly version: string;
  /** Key groups and master keys of other kinds, kept verbatim in their original order. */
  readonly preserved: readonly TreeItem[];
}

const KEY_KINDS = ['kms', 'gcp_kms', 'azure_kv', 'hc_vault', 'pgp'] as const;
const RULE_FIELDS = [
  ['unencrypted_suffix', 'unencryptedSuffix'],
  ['encrypted_suffix', 'encryptedSuffix'],
  ['unencrypted_regex', 'unencryptedRegex'],
  ['encrypted_regex', 'encryptedRegex'],
  ['unencrypted_comment_regex', 'unencryptedCommentRegex'],
  ['encrypted_comment_regex', 'encryptedCommentRegex'],
] as const;

function bad(field: string, message: string, line?: number): SecretsError {
  return new SecretsError('malformed', `sops.${field}: ${message}`, {
    hint: 'the sops metadata block was damaged; restore the file from Git',
    ...(line === undefined ? {} : { line }),
  });
}

function asString(value: TreeValue, field: string, line?: number): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint' || typeof value === 'number') return String(value);
  throw bad(field, `expected a string, found ${describe(value)}`, line);
}

function describe(value: TreeValue): string {
  if (value === null) return 'nothing';
  if (isMap(value)) return 'a mapping';
  if (isList(value)) return 'a list';
  return `a ${typeof value}`;
}

function ageStanzas(value: TreeValue, field: string, line?: number): AgeStanza[] {
  if (value === null) return [];
  if (!isList(value))
    throw bad(field, `expected a list of { recipient, enc }, found ${describe(value)}`, line);
  return value.items.map((entry, i) => {
    if (!isMap(entry))
      throw bad(`${field}[${i}]`, `expected { recipient, enc }, found ${describe(entry)}`, line);
    const get = (k: string): TreeValue | undefined => entry.items.find((it) => it.key === k)?.value;
    const recipient = get('recipient');
    const enc = get('enc');
    if (recipient === undefined || enc === undefined)
      throw bad(`${field}[${i}]`, 'needs recipient and enc', line);
    return {
      recipient: asString(recipient, `${field}[${i}].recipient`, line),
      enc: asString(enc, `${field}[${i}].enc`, line),
    };
  });
}

/** Reads the metadata mapping found under the top-level `sops` key. */
export function metadataFromTree(value: TreeValue, line?: number): SopsMetadata {
  if (!isMap(value)) throw bad('', `expected a mapping, found ${describe(value)}`, line);
  const fields = new Map<string, TreeItem>();
  for (const item of value.items) if (typeof item.key === 'string') fields.set(item.key, item);
  const get = (k: string): TreeValue | undefined => fields.get(k)?.value;
  const lineOf = (k: string): number | undefined => fields.get(k)?.line ?? line;

  const lastModifiedRaw = get('lastmodified');
  if (lastModifiedRaw === undefined || lastModifiedRaw === null)
    throw bad('lastmodified', 'is missing', line);
  const lastModified = asString(lastModifiedRaw, 'lastmodified', lineOf('lastmodified'));
  if (rfc3339(lastModified) === undefined)
    throw bad('lastmodified', 'is not an RFC 3339 time such as 2024-01-31T12:00:00Z', lineOf('lastmodified'));
  const macRaw = get('mac');
  const mac = macRaw === undefined || macRaw === null ? '' : asString(macRaw, 'mac', lineOf('mac'));
  const versionRaw = get('version');
  const version =
    versionRaw === undefined || versionRaw === null ? '' : asString(versionRaw, 'version', lineOf('version'));

  const rules: Record<string, string> = {};
  for (const [field, prop] of RULE_FIELDS) {
    const v = get(field);
    if (v !== undefined && v !== null && v !== '') rules[prop] = asString(v, field, lineOf(field));
  }
  const macOnly = get('mac_only_encrypted');
  const macOnlyEncrypted = macOnly === true || macOnly === 'true';

  let age = ageStanzas(get('age') ?? null, 'age', lineOf('age'));
  const groups = get('key_groups');
  if (groups !== undefined && groups !== null) {
    if (!isList(groups))
      throw bad('key_groups', `expected a list, found ${describe(groups)}`, lineOf('key_groups'));
    if (groups.items.length > 1) {
      throw new SecretsError(
        'unsupported',
        `the file splits its data key over ${groups.items.length} key groups (Shamir)`,
        {
          hint: 'Plumbline opens files with a single key group; decrypt this one with the sops CLI',
          ...(lineOf('key_groups') === undefined ? {} : { line: lineOf('key_groups') as number }),
        },
      );
    }
    const group = groups.items[0];
    if (isMap(group)) {
      const groupAge = group.items.find((i) => i.key === 'age')?.value;
      if (groupAge !== undefined)
        age = [...age, ...ageStanzas(groupAge, 'key_groups[0].age', lineOf('key_groups'))];
    }
  }

  const preserved: TreeItem[] = [];
  for (const item of value.items) {
    if (item.key === 'shamir_threshold' || item.key === 'key_groups') preserved.push(item);
    else if ((KEY_KINDS as readonly unknown[]).includes(item.key) && hasEntries(item.value))
      preserved.push(item);
  }
  return { age, lastModified, mac, version, preserved, macOnlyEncrypted, ...rules };
}

function hasEntries(value: TreeValue): boolean {
  return isList(value) ? value.items.length > 0 : value !== null;
}

/** The metadata as a mapping, fields in the order SOPS writes them (its Metadata struct). */
export function metadataToTree(meta: SopsMetadata): TreeMap {
  const items: TreeItem[] = [];
  const push = (key: string, value: TreeValue): void => {
    items.push({ key, value });
  };
  const preserved = new Map(meta.preserved.map((i) => [i.key, i.value]));
  const keyGroups = preserved.get('key_groups');
  if (preserved.has('shamir_threshold')) push('shamir_threshold', preserved.get('shamir_threshold') ?? null);
  if (keyGroups !== undefined) push('key_groups', keyGroups);
  for (const kind of ['kms', 'gcp_kms', 'azure_kv', 'hc_vault'] as const) {
    const v = preserved.get(kind);
    if (v !== undefined) push(kind, v);
  }
  if (keyGroups === undefined && meta.age.length > 0) {
    push(
      'age',
      list(
        meta.age.map((s) =>
          map([
            { key: 'recipient', value: s.recipient },
            { key: 'enc', value: s.enc },
          ]),
        ),
      ),
    );
  }
  push('lastmodified', meta.lastModified);
  push('mac', meta.mac);
  const pgp = preserved.get('pgp');
  if (pgp !== undefined) push('pgp', pgp);
  for (const [field, prop] of RULE_FIELDS) {
    const v = meta[prop];
    if (v !== undefined && v !== '') push(field, v);
  }
  if (meta.macOnlyEncrypted === true) push('mac_only_encrypted', true);
  push('version', meta.version);
  return map(items);
}

/** Parses RFC 3339 into epoch milliseconds; undefined when it is not one. */
export function rfc3339(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The MAC's additional data: Go parses lastmodified and formats it again with time.RFC3339, which drops
 * fractional seconds; the zone is kept as written.
 */
export function macAad(lastModified: string): string {
  return lastModified.replace(/\.\d+(?=(Z|[+-]\d{2}:\d{2})$)/, '');
}

/** Now, as SOPS writes lastmodified: RFC 3339 in UTC, whole seconds. */
export function nowRfc3339(now: Date = new Date()): string {
  return `${now.toISOString().slice(0, 19)}Z`;
}
