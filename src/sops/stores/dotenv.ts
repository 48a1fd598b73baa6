// dotenv files, as getsops/sops stores/dotenv reads and writes them: one KEY=value per line, `#` lines are
// comments, a literal \n in a value is a newline, and the metadata is flattened into `sops_…` lines
// (`sops_age__list_0__map_recipient=…`), sorted, after the data.
import { comment, isComment } from '../cipher.js';
import { SecretsError } from '../errors.js';
import { isList, isMap, list, map, type TreeItem, type TreeValue } from '../tree.js';
import { SOPS_KEY, type Store } from './types.js';

const PREFIX = `${SOPS_KEY}_`;
const MAP_SEP = '__map_';
const LIST_SEP = '__list_';

function parse(input: Buffer, file: string): TreeItem[] {
  const items: TreeItem[] = [];
  const lines = input.toString('utf8').split('\n');
  lines.forEach((line, index) => {
    if (line.length === 0) return;
    if (line.startsWith('#')) {
      items.push({ key: comment(line.slice(1)), value: null, line: index + 1 });
      return;
    }
    const eq = line.indexOf('=');
    if (eq === -1) {
      throw new SecretsError('malformed', 'a dotenv line must be KEY=value or a # comment', {
        file,
        line: index + 1,
        hint: 'write KEY=value; for a file of another format, name it with --format',
      });
    }
    items.push({
      key: line.slice(0, eq),
      value: line.slice(eq + 1).replaceAll('\\n', '\n'),
      line: index + 1,
    });
  });
  return items;
}

function scalarText(value: TreeValue): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (value === null) return '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return String(value);
}

function emit(items: readonly TreeItem[]): Buffer {
  let out = '';
  for (const item of items) {
    if (isComment(item.key)) {
      out += `#${item.key.text}\n`;
      continue;
    }
    if (isMap(item.value) || isList(item.value)) {
      throw new SecretsError('usage', `${item.key}: a dotenv file cannot hold a mapping or a list`, {
        hint: 'keep dotenv values flat, or use YAML or JSON',
      });
    }
    const value = isComment(item.value) ? '' : scalarText(item.value);
    out += `${item.key}=${value.replaceAll('\n', '\\n')}\n`;
  }
  return Buffer.from(out, 'utf8');
}

/** stores/flatten.go: nested metadata to `a__map_b__list_0` keys. */
function flatten(value: TreeValue, prefix: string, into: Map<string, string>): void {
  if (isMap(value)) {
    for (const item of value.items)
      if (typeof item.key === 'string') flatten(item.value, `${prefix}${MAP_SEP}${item.key}`, into);
  } else if (isList(value)) {
    value.items.forEach((v, i) => {
      flatten(v, `${prefix}${LIST_SEP}${i}`, into);
    });
  } else if (value !== null && !isComment(value)) {
    into.set(prefix, scalarText(value));
  }
}

type Token = { readonly map: string } | { readonly index: number };

function tokenize(path: string): Token[] {
  const tokens: Token[] = [];
  const re = /(__map_|__list_)/g;
  let last = 0;
  let kind: 'root' | 'map' | 'list' = 'root';
  const finish = (end: number): void => {
    const text = path.slice(last, end);
    tokens.push(kind === 'list' ? { index: Number.parseInt(text, 10) } : { map: text });
  };
  for (let m = re.exec(path); m !== null; m = re.exec(path)) {
    finish(m.index);
    kind = m[0] === MAP_SEP ? 'map' : 'list';
    last = m.index + m[0].length;
  }
  finish(path.length);
  return tokens;
}

type Loose = { [key: string]: Loose } | Loose[] | string;

/** stores/flatten.go Unflatten, then to a tree (maps keep the order keys first appear in). */
function unflatten(entries: readonly [string, string][], file: string): TreeValue {
  const root: Record<string, Loose> = {};
  for (const [key, value] of entries) {
    const tokens = tokenize(key);
    let node: Loose = root;
    tokens.forEach((token, i) => {
      const last = i === tokens.length - 1;
      const next = tokens[i + 1];
      const fresh = (): Loose => (last ? value : next !== undefined && 'index' in next ? [] : {});
      if ('map' in token) {
        if (typeof node !== 'object' || Array.isArray(node)) throw badFlat(file, key);
        node[token.map] ??= fresh();
        if (last) node[token.map] = value;
        node = node[token.map] as Loose;
      } else {
        if (!Array.isArray(node) || !Number.isInteger(token.index) || token.index < 0 || token.index > 10_000)
          throw badFlat(file, key);
        node[token.index] ??= fresh();
        if (last) node[token.index] = value;
        node = node[token.index] as Loose;
      }
    });
  }
  return toTree(root);
}

function toTree(value: Loose | undefined): TreeValue {
  if (value === undefined) return null;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return list(Array.from(value, (v) => toTree(v)));
  return map(Object.entries(value).map(([k, v]) => ({ key: k, value: toTree(v) })));
}

function badFlat(file: string, key: string): SecretsError {
  return new SecretsError('malformed', `the metadata line ${PREFIX}${key} does not fit the others`, {
    file,
    hint: 'the sops_ lines were damaged; restore the file from Git',
  });
}

export const dotenvStore: Store = {
  format: 'dotenv',
  loadPlain(input, file) {
    const items = parse(input, file);
    const meta = items.find((i) => typeof i.key === 'string' && i.key.startsWith(PREFIX));
    if (meta !== undefined) {
      throw new SecretsError('usage', `is already encrypted (it has ${PREFIX}… lines)`, {
        file,
        ...(meta.line === undefined ? {} : { line: meta.line }),
        hint: 'decrypt it first, or use `plumbline secrets edit` to change it',
      });
    }
    return [map(items)];
  },
  loadEncrypted(input, file) {
    const data: TreeItem[] = [];
    const meta: [string, string][] = [];
    let metadataLine: number | undefined;
    for (const item of parse(input, file)) {
      if (typeof item.key === 'string' && item.key.startsWith(PREFIX)) {
        metadataLine ??= item.line;
        meta.push([item.key.slice(PREFIX.length), scalarText(item.value)]);
      } else data.push(item);
    }
    if (meta.length === 0) return undefined;
    return { branches: [map(data)], metadata: unflatten(meta, file), metadataLine };
  },
  emitPlain(branches) {
    return emit(branches[0]?.items ?? []);
  },
  emitEncrypted(branches, metadata) {
    const flat = new Map<string, string>();
    for (const item of metadata.items) if (typeof item.key === 'string') flatten(item.value, item.key, flat);
    const meta = [...flat.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]): TreeItem => ({ key: `${PREFIX}${k}`, value: v }));
    return emit([...(branches[0]?.items ?? []), ...meta]);
  },
};
