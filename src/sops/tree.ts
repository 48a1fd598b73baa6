// The SOPS tree: every format (YAML, JSON, dotenv, binary) loads into ordered branches of keys and values,
// with comments as items of their own, and is encrypted, decrypted and MAC'd by the same walk (getsops/sops
// sops.go). Keys stay readable; the key path joined with ':' plus a trailing ':' is each value's additional
// data, so a value moved under another key fails to decrypt. The MAC is SHA-512 over the values in tree
// order (comments excluded), written in upper-case hex.
import { createHash } from 'node:crypto';
import {
  decryptValue,
  encryptValue,
  type IvStash,
  isComment,
  type Scalar,
  type SopsComment,
  valueBytes,
} from './cipher.js';
import { SecretsError } from './errors.js';

export interface TreeMap {
  readonly kind: 'map';
  readonly items: TreeItem[];
}

export interface TreeList {
  readonly kind: 'list';
  readonly items: TreeValue[];
}

export type TreeValue = Scalar | null | TreeMap | TreeList | SopsComment;

export interface TreeItem {
  /** A string key, or a comment standing on its own line between keys. */
  key: string | SopsComment;
  value: TreeValue;
  /** 1-based line in the file it came from, for messages. */
  line?: number;
}

/** Which values are encrypted: the `sops` metadata fields of the same names (at most one of the four). */
export interface EncryptionRules {
  readonly unencryptedSuffix?: string;
  readonly encryptedSuffix?: string;
  readonly unencryptedRegex?: string;
  readonly encryptedRegex?: string;
  readonly unencryptedCommentRegex?: string;
  readonly encryptedCommentRegex?: string;
  /** The MAC covers only encrypted values (so unencrypted ones may change without breaking it). */
  readonly macOnlyEncrypted?: boolean;
}

export const DEFAULT_UNENCRYPTED_SUFFIX = '_unencrypted';

/** `echo -n sops | sha256sum`: the MAC of a mac_only_encrypted file starts from these bytes (sops.go). */
const MAC_ONLY_ENCRYPTED_INIT = Buffer.from(
  '8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69',
  'hex',
);

export function map(items: TreeItem[] = []): TreeMap {
  return { kind: 'map', items };
}

export function list(items: TreeValue[] = []): TreeList {
  return { kind: 'list', items };
}

export function isMap(value: unknown): value is TreeMap {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'map';
}

export function isList(value: unknown): value is TreeList {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'list';
}

/** A rules object compiled once: regular expressions built and checked. */
interface CompiledRules {
  readonly unencryptedSuffix: string | undefined;
  readonly encryptedSuffix: string | undefined;
  readonly unencryptedRegex: RegExp | undefined;
  readonly encryptedRegex: RegExp | undefined;
  readonly unencryptedCommentRegex: RegExp | undefined;
  readonly encryptedCommentRegex: RegExp | undefined;
  readonly macOnlyEncrypted: boolean;
}

/** Go's RE2 syntax is close to JavaScript's for what these rules use; a leading (?i) becomes the i flag. */
export function compileRegex(source: string, field: string): RegExp {
  const insensitive = source.startsWith('(?i)');
  try {
    return new RegExp(insensitive ? source.slice(4) : source, insensitive ? 'i' : '');
  } catch (error) {
    throw new SecretsError(
      'malformed',
      `${field} is not a valid regular expression (${(error as Error).message})`,
      {
        hint: `fix ${field} in the sops metadata or .sops.yaml`,
      },
    );
  }
}

export function compileRules(rules: EncryptionRules): CompiledRules {
  const set = [
    rules.unencryptedSuffix,
    rules.encryptedSuffix,
    rules.unencryptedRegex,
    rules.encryptedRegex,
  ].filter((r) => r !== undefined && r !== '');
  if (set.length > 1) {
    throw new SecretsError(
      'usage',
      'use at most one of unencrypted_suffix, encrypted_suffix, unencrypted_regex and encrypted_regex',
      { hint: 'SOPS allows only one rule for choosing the values to encrypt' },
    );
  }
  const regex = (value: string | undefined, field: string): RegExp | undefined =>
    value === undefined || value === '' ? undefined : compileRegex(value, field);
  return {
    unencryptedSuffix: set.length === 0 ? DEFAULT_UNENCRYPTED_SUFFIX : nonEmpty(rules.unencryptedSuffix),
    encryptedSuffix: nonEmpty(rules.encryptedSuffix),
    unencryptedRegex: regex(rules.unencryptedRegex, 'unencrypted_regex'),
    encryptedRegex: regex(rules.encryptedRegex, 'encrypted_regex'),
    unencryptedCommentRegex: regex(rules.unencryptedCommentRegex, 'unencrypted_comment_regex'),
    encryptedCommentRegex: regex(rules.encryptedCommentRegex, 'encrypted_comment_regex'),
    macOnlyEncrypted: rules.macOnlyEncrypted === true,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** sops.go shouldBeEncrypted: the later rules override the earlier ones, in this order. */
function shouldBeEncrypted(
  rules: CompiledRules,
  path: readonly string[],
  comments: readonly (readonly string[])[],
  isCommentLeaf: boolean,
): boolean {
  let encrypted = true;
  if (rules.unencryptedSuffix !== undefined) {
    const suffix = rules.unencryptedSuffix;
    if (path.some((p) => p.endsWith(suffix))) encrypted = false;
  }
  if (rules.encryptedSuffix !== undefined) {
    const suffix = rules.encryptedSuffix;
    encrypted = path.some((p) => p.endsWith(suffix));
  }
  if (rules.unencryptedRegex !== undefined) {
    const re = rules.unencryptedRegex;
    if (path.some((p) => re.test(p))) encrypted = false;
  }
  if (rules.encryptedRegex !== undefined) {
    const re = rules.encryptedRegex;
    encrypted = path.some((p) => re.test(p));
  }
  if (rules.unencryptedCommentRegex !== undefined) {
    const re = rules.unencryptedCommentRegex;
    if (comments.some((group) => group.some((c) => re.test(c)))) encrypted = false;
  }
  if (rules.encryptedCommentRegex !== undefined) {
    const re = rules.encryptedCommentRegex;
    const last = comments.length - 1;
    const lastLength = comments[last]?.length ?? 0;
    encrypted = comments.some((group, i) =>
      // The comment line that matches is itself left readable; only what follows it is encrypted.
      group.some((c, j) => !(isCommentLeaf && i === last && j === lastLength - 1) && re.test(c)),
    );
  }
  return encrypted;
}

type Leaf = Scalar | SopsComment;
type OnLeaf = (leaf: Leaf, path: readonly string[], comments: readonly (readonly string[])[]) => Leaf;

const MAX_DEPTH = 200;

/**
 * Walks a branch in place like sops.go walkBranch/walkSlice, calling `onLeaf` for every value and comment
 * with its key path and the comments stack (the comment lines seen just before, per nesting level).
 */
function walkMap(
  branch: TreeMap,
  path: string[],
  comments: string[][],
  onLeaf: OnLeaf,
  at: { line: number | undefined },
): void {
  if (path.length > MAX_DEPTH) throw tooDeep();
  const stack = [...comments, []];
  const top = stack[stack.length - 1] as string[];
  for (const item of branch.items) {
    at.line = item.line ?? at.line;
    if (isComment(item.key)) {
      top.push(item.key.text);
      const out = onLeaf(item.key, path, stack);
      item.key = isComment(out) ? out : { kind: 'comment', text: String(out) };
      continue;
    }
    const valueIsComment = isComment(item.value);
    if (isComment(item.value)) top.push(item.value.text);
    item.value = walkValue(item.value, [...path, item.key], stack, onLeaf, at);
    if (!valueIsComment) top.length = 0;
  }
}

function walkList(
  items: TreeValue[],
  path: string[],
  comments: string[][],
  onLeaf: OnLeaf,
  at: { line: number | undefined },
): void {
  const stack = [...comments, []];
  const top = stack[stack.length - 1] as string[];
  for (let i = 0; i < items.length; i++) {
    const v = items[i] as TreeValue;
    const isC = isComment(v);
    if (isComment(v)) top.push(v.text);
    items[i] = walkValue(v, path, stack, onLeaf, at);
    if (!isC) top.length = 0;
  }
}

function walkValue(
  value: TreeValue,
  path: string[],
  comments: string[][],
  onLeaf: OnLeaf,
  at: { line: number | undefined },
): TreeValue {
  if (value === null) return null;
  if (isMap(value)) {
    walkMap(value, path, comments, onLeaf, at);
    return value;
  }
  if (isList(value)) {
    if (comments.length > MAX_DEPTH) throw tooDeep();
    walkList(value.items, path, comments, onLeaf, at);
    return value;
  }
  return onLeaf(value, path, comments);
}

function tooDeep(): SecretsError {
  return new SecretsError('too-large', `the document nests deeper than ${MAX_DEPTH} levels`, {
    hint: 'flatten the structure; secrets files are usually a few levels deep',
  });
}

export function aadFor(path: readonly string[]): string {
  return `${path.join(':')}:`;
}

function macHash(rules: CompiledRules): ReturnType<typeof createHash> {
  const hash = createHash('sha512');
  if (rules.macOnlyEncrypted) hash.update(MAC_ONLY_ENCRYPTED_INIT);
  return hash;
}

function where(path: readonly string[]): string {
  return path.length === 0 ? 'a top-level comment' : `the value of ${path.join('.')}`;
}

function walkBranches(branches: readonly TreeMap[], onLeaf: OnLeaf): void {
  const at: { line: number | undefined } = { line: undefined };
  for (const branch of branches) {
    try {
      walkMap(branch, [], [], onLeaf, at);
    } catch (error) {
      if (error instanceof SecretsError && error.line === undefined && at.line !== undefined) {
        throw new SecretsError(error.reason, error.detail, {
          line: at.line,
          ...(error.hint === undefined ? {} : { hint: error.hint }),
        });
      }
      throw error;
    }
  }
}

/**
 * Encrypts the branches in place with `dataKey` and returns the MAC (upper-case hex SHA-512) of the
 * plaintext values. `stash` reuses IVs of values that did not change (an edit).
 */
export function encryptBranches(
  branches: readonly TreeMap[],
  dataKey: Uint8Array,
  rules: EncryptionRules,
  stash?: IvStash,
): string {
  const compiled = compileRules(rules);
  const hash = macHash(compiled);
  walkBranches(branches, (leaf, path, comments) => {
    const leafIsComment = isComment(leaf);
    const encrypted = shouldBeEncrypted(compiled, path, comments, leafIsComment);
    if ((!compiled.macOnlyEncrypted || encrypted) && !leafIsComment) hash.update(valueBytes(leaf).bytes);
    if (!encrypted) return leaf;
    const out = encryptValue(leaf, dataKey, aadFor(path), stash);
    return leafIsComment ? { kind: 'comment', text: out } : out;
  });
  return hash.digest('hex').toUpperCase();
}

/**
 * Decrypts the branches in place and returns the MAC of the decrypted values. A value that fails
 * authentication throws `tampered` naming its key path (never its content); comments that do not decrypt
 * are kept as they are, as SOPS does for files from versions that did not encrypt comments.
 */
export function decryptBranches(
  branches: readonly TreeMap[],
  dataKey: Uint8Array,
  rules: EncryptionRules,
  stash?: IvStash,
): string {
  const compiled = compileRules(rules);
  const hash = macHash(compiled);
  walkBranches(branches, (leaf, path, comments) => {
    const leafIsComment = isComment(leaf);
    const encrypted = shouldBeEncrypted(compiled, path, comments, leafIsComment);
    let out: Leaf = leaf;
    if (encrypted) {
      if (isComment(leaf)) {
        try {
          const plain = decryptValue(leaf.text, dataKey, aadFor(path), stash);
          out = isComment(plain) ? plain : leaf;
        } catch {
          out = leaf;
        }
      } else if (typeof leaf !== 'string') {
        throw new SecretsError(
          'tampered',
          `${where(path)} should be encrypted but is a plain ${typeof leaf}`,
          {
            hint: 'the file was edited without SOPS; restore it from Git or edit it with `plumbline secrets edit`',
          },
        );
      } else {
        try {
          out = decryptValue(leaf, dataKey, aadFor(path), stash);
        } catch (error) {
          if (error instanceof SecretsError) {
            throw new SecretsError(error.reason, `${where(path)}: ${error.detail}`, {
              ...(error.hint === undefined ? {} : { hint: error.hint }),
            });
          }
          throw error;
        }
        if (isComment(out)) {
          throw new SecretsError('tampered', `${where(path)} decrypts to a comment`, {
            hint: 'restore the file from Git',
          });
        }
      }
    }
    if ((!compiled.macOnlyEncrypted || encrypted) && !isComment(out)) hash.update(valueBytes(out).bytes);
    return out;
  });
  return hash.digest('hex').toUpperCase();
}

/** A deep copy, so a caller's tree survives an in-place walk. */
export function cloneTree<T extends TreeValue>(value: T): T {
  if (isMap(value)) return map(value.items.map((i) => ({ ...i, value: cloneTree(i.value) }))) as T;
  if (isList(value)) return list(value.items.map((v) => cloneTree(v))) as T;
  if (value instanceof Uint8Array) return new Uint8Array(value) as T;
  return value;
}

/** The value at a top-level key, or along a dotted path into nested maps when no top-level key has that name. */
export function lookup(branches: readonly TreeMap[], key: string): TreeValue | undefined {
  for (const branch of branches) {
    const direct = branch.items.find((i) => i.key === key);
    if (direct !== undefined) return direct.value;
  }
  const parts = key.split('.');
  if (parts.length < 2) return undefined;
  for (const branch of branches) {
    let current: TreeValue | undefined = branch;
    for (const part of parts) {
      if (!isMap(current)) {
        current = undefined;
        break;
      }
      current = current.items.find((i) => i.key === part)?.value;
    }
    if (current !== undefined) return current;
  }
  return undefined;
}

/** The string keys of the top level, for "it has: a, b" hints (names only, never values). */
export function topLevelKeys(branches: readonly TreeMap[]): string[] {
  return branches.flatMap((b) => b.items.map((i) => i.key).filter((k): k is string => typeof k === 'string'));
}
