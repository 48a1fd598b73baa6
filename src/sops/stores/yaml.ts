// YAML files, as getsops/sops stores/yaml reads and writes them: every document of a stream is a branch,
// key order is kept, comments become items of the tree (so SOPS encrypts them too), a line comment moves to
// its own line above the item, aliases are expanded, and output is indented by four spaces.
import {
  Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  Pair,
  parseAllDocuments,
  Scalar,
  YAMLMap,
  YAMLSeq,
} from 'yaml';
import { comment, isComment } from '../cipher.js';
import { SecretsError } from '../errors.js';
import {
  isList,
  isMap as isTreeMap,
  list,
  map,
  type TreeItem,
  type TreeMap,
  type TreeValue,
} from '../tree.js';
import { SOPS_KEY, type Store } from './types.js';

/** Alias expansion is bounded, so a "billion laughs" file is an error, not an out-of-memory. */
const MAX_EXPANDED_NODES = 200_000;
const MAX_DEPTH = 200;

interface Context {
  readonly file: string;
  readonly lines: LineCounter;
  readonly doc: Document.Parsed;
  nodes: number;
}

function commentLines(text: string | null | undefined): TreeItem[] {
  if (text === null || text === undefined || text === '') return [];
  return text.split('\n').map((line) => ({ key: comment(line), value: null }));
}

function lineOf(
  ctx: Context,
  node: { range?: [number, number, number] | null | undefined } | null | undefined,
): number | undefined {
  const offset = node?.range?.[0];
  return offset === undefined ? undefined : ctx.lines.linePos(offset).line;
}

function malformed(ctx: Context, message: string, line: number | undefined, hint: string): SecretsError {
  return new SecretsError('malformed', message, {
    file: ctx.file,
    ...(line === undefined ? {} : { line }),
    hint,
  });
}

function toTree(node: unknown, ctx: Context, depth: number): TreeValue {
  if (++ctx.nodes > MAX_EXPANDED_NODES) {
    throw new SecretsError('too-large', `expands to more than ${MAX_EXPANDED_NODES} nodes (aliases?)`, {
      file: ctx.file,
      hint: 'use fewer YAML aliases',
    });
  }
  if (depth > MAX_DEPTH) {
    throw new SecretsError('too-large', `nests deeper than ${MAX_DEPTH} levels`, {
      file: ctx.file,
      ...(lineOf(ctx, node as Node) === undefined ? {} : { line: lineOf(ctx, node as Node) as number }),
      hint: 'flatten the structure',
    });
  }
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return toTree(node.resolve(ctx.doc), ctx, depth + 1);
  if (isMap(node)) return mapToTree(node, ctx, depth);
  if (isSeq(node)) {
    const items: TreeValue[] = [];
    for (const c of commentLines(node.commentBefore)) items.push(c.key as TreeValue);
    for (const item of node.items) {
      const before =
        isScalar(item) || isAlias(item)
          ? [...commentLines((item as Node).commentBefore), ...commentLines((item as Node).comment)]
          : [];
      for (const c of before) items.push(c.key as TreeValue);
      items.push(toTree(item, ctx, depth + 1));
    }
    for (const c of commentLines(node.comment)) items.push(c.key as TreeValue);
    return list(items);
  }
  if (isScalar(node)) {
    const v = node.value;
    if (
      v === null ||
      typeof v === 'string' ||
      typeof v === 'bigint' ||
      typeof v === 'number' ||
      typeof v === 'boolean'
    )
      return v;
    if (v instanceof Uint8Array) return v;
    return String(v);
  }
  throw malformed(
    ctx,
    'holds a YAML node of an unknown kind',
    lineOf(ctx, node as Node),
    'write plain mappings, lists and values',
  );
}

function mapToTree(node: YAMLMap, ctx: Context, depth: number): TreeMap {
  const items: TreeItem[] = [...commentLines(node.commentBefore)];
  // Duplicate keys are checked here with a set: the parser's own check compares every pair with every other.
  const seen = new Set<string>();
  for (const pair of node.items) {
    const key = pair.key as Node | null;
    const value = pair.value as Node | null;
    const line = lineOf(ctx, key);
    if (!isScalar(key) || typeof key.value !== 'string') {
      const shown = isScalar(key) ? String(key.value) : 'a mapping or list';
      throw malformed(
        ctx,
        `the key ${shown} is not a string`,
        line,
        `SOPS supports only string keys: quote it, e.g. "${shown}"`,
      );
    }
    if (seen.has(key.value)) {
      throw malformed(
        ctx,
        `the key ${key.value} appears twice in the same mapping`,
        line,
        'keep one of them',
      );
    }
    seen.add(key.value);
    items.push(...commentLines(key.commentBefore), ...commentLines(key.comment));
    const scalarValue = isScalar(value) || isAlias(value);
    if (scalarValue) items.push(...commentLines(value?.commentBefore), ...commentLines(value?.comment));
    items.push({
      key: key.value,
      value: toTree(value, ctx, depth + 1),
      ...(line === undefined ? {} : { line }),
    });
  }
  items.push(...commentLines(node.comment));
  return map(items);
}

function parse(input: Buffer, file: string): { branches: TreeMap[]; metadata: TreeItem | undefined } {
  const text = input.toString('utf8');
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, {
    lineCounter: lines,
    prettyErrors: false,
    intAsBigInt: true,
    uniqueKeys: false,
  });
  const branches: TreeMap[] = [];
  let metadata: TreeItem | undefined;
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const ctx: Context = { file, lines, doc, nodes: 0 };
    const error = doc.errors[0];
    if (error !== undefined) {
      throw malformed(
        ctx,
        `YAML syntax error: ${error.message.split('\n')[0]}`,
        lines.linePos(error.pos[0]).line,
        'fix the YAML at that line (indentation, quotes, a missing colon), or name the format with --format',
      );
    }
    const contents = doc.contents;
    let branch: TreeMap;
    if (contents === null || (isScalar(contents) && contents.value === null)) branch = map([]);
    else if (isMap(contents)) branch = mapToTree(contents, ctx, 0);
    else {
      throw malformed(
        ctx,
        `a YAML document must be a mapping, not ${isSeq(contents) ? 'a list' : 'a single value'}`,
        lineOf(ctx, contents),
        'put the values under keys, e.g. password: …',
      );
    }
    branch.items.unshift(...commentLines(doc.commentBefore));
    branch.items.push(...commentLines(doc.comment));
    const index = branch.items.findIndex((i) => i.key === SOPS_KEY);
    if (index >= 0) {
      metadata ??= branch.items[index];
      branch.items.splice(index, 1);
    }
    branches.push(branch);
  }
  return { branches, metadata };
}

// --- writing ---

const YAML11_LOOKALIKE =
  /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|[-+]?0[0-7_]+|[-+]?\d[\d_]*(?::[0-5]?\d)+(?:\.[\d_]*)?|\d{4}-\d\d?-\d\d?(?:(?:[Tt]|[ \t]+)\d\d?:\d\d:\d\d(?:\.\d*)?(?:[ \t]*(?:Z|[-+]\d\d?(?::\d\d)?))?)?)$/;

function scalarNode(value: TreeValue): Scalar {
  if (value instanceof Uint8Array) return new Scalar(Buffer.from(value).toString('utf8'));
  const node = new Scalar(value);
  if (typeof value === 'number') node.minFractionDigits = 1; // a float stays a float when read back
  // Quoted so that YAML 1.1 readers (and yaml.v3's timestamp rule) read a string back, as SOPS writes them.
  if (typeof value === 'string' && YAML11_LOOKALIKE.test(value)) node.type = 'QUOTE_DOUBLE';
  return node;
}

function valueNode(value: TreeValue): Node {
  if (isTreeMap(value)) return mapNode(value);
  if (isList(value)) {
    const seq = new YAMLSeq();
    let pending: string[] = [];
    for (const item of value.items) {
      if (isComment(item)) {
        pending.push(item.text);
        continue;
      }
      const node = valueNode(item);
      if (pending.length > 0) node.commentBefore = pending.join('\n');
      pending = [];
      seq.items.push(node);
    }
    if (pending.length > 0) seq.comment = pending.join('\n');
    return seq;
  }
  if (isComment(value)) return new Scalar(null);
  return scalarNode(value);
}

function mapNode(branch: TreeMap): YAMLMap {
  const node = new YAMLMap();
  let pending: string[] = [];
  for (const item of branch.items) {
    if (isComment(item.key)) {
      pending.push(item.key.text);
      continue;
    }
    const key = new Scalar(item.key);
    if (pending.length > 0) key.commentBefore = pending.join('\n');
    pending = [];
    node.items.push(new Pair(key, valueNode(item.value)));
  }
  if (pending.length > 0) node.comment = pending.join('\n');
  return node;
}

function emit(branches: readonly TreeMap[], metadata: TreeMap | undefined): Buffer {
  const parts = branches.map((branch) => {
    const doc = new Document();
    // The metadata is the branch's last item, so comments that trailed the data stay above it.
    const contents = mapNode(
      metadata === undefined ? branch : map([...branch.items, { key: SOPS_KEY, value: metadata }]),
    );
    if (typeof contents.comment === 'string') {
      doc.comment = contents.comment;
      contents.comment = null;
    }
    doc.contents = contents;
    return doc.toString({ indent: 4, indentSeq: true, lineWidth: 0 });
  });
  return Buffer.from(parts.join('---\n'), 'utf8');
}

export const yamlStore: Store = {
  format: 'yaml',
  loadPlain(input, file) {
    const { branches, metadata } = parse(input, file);
    if (metadata !== undefined) {
      throw new SecretsError('usage', 'is already encrypted (it has a top-level sops key)', {
        file,
        ...(metadata.line === undefined ? {} : { line: metadata.line }),
        hint: 'decrypt it first, or use `plumbline secrets edit` to change it',
      });
    }
    return branches;
  },
  loadEncrypted(input, file) {
    const { branches, metadata } = parse(input, file);
    if (metadata === undefined) return undefined;
    return { branches, metadata: metadata.value, metadataLine: metadata.line };
  },
  emitPlain(branches) {
    return emit(branches, undefined);
  },
  emitEncrypted(branches, metadata) {
    return emit(branches, metadata);
  },
};
