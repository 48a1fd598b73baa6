// JSON files, as getsops/sops stores/json reads and writes them: the top level is an object, key order is
// kept exactly (JSON.parse would reorder integer-like keys, and the MAC depends on order), every number is a
// float (Go's decoder reads them as float64), and output is indented with tabs. The binary store keeps any
// file as the string `data` inside a JSON envelope.

import { isComment } from '../cipher.js';
import { SecretsError } from '../errors.js';
import { isList, isMap, list, map, type TreeItem, type TreeMap, type TreeValue } from '../tree.js';
import { SOPS_KEY, type Store } from './types.js';

const MAX_DEPTH = 200;

class JsonReader {
  private pos = 0;
  private line = 1;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  private fail(
    message: string,
    hint = 'fix the JSON at that line, or name the format with --format',
  ): SecretsError {
    return new SecretsError('malformed', `JSON syntax error: ${message}`, {
      file: this.file,
      line: this.line,
      hint,
    });
  }

  private skip(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 10) this.line++;
      else if (c !== 32 && c !== 9 && c !== 13) return;
      this.pos++;
    }
  }

  private describeNext(): string {
    if (this.pos >= this.text.length) return 'the end of the file';
    return JSON.stringify(this.text.slice(this.pos, this.pos + 1));
  }

  document(): TreeMap {
    this.skip();
    if (this.text.charCodeAt(0) === 0xfeff) this.pos++;
    this.skip();
    if (this.text[this.pos] !== '{') {
      throw this.fail(
        `the top level must be an object, found ${this.describeNext()}`,
        'SOPS supports JSON files whose top level is an object; wrap other values, e.g. {"data": […]}',
      );
    }
    const value = this.object(0);
    this.skip();
    if (this.pos < this.text.length)
      throw this.fail(`unexpected ${this.describeNext()} after the top-level object`);
    return value;
  }

  private value(depth: number): TreeValue {
    if (depth > MAX_DEPTH) {
      throw new SecretsError('too-large', `nests deeper than ${MAX_DEPTH} levels`, {
        file: this.file,
        line: this.line,
        hint: 'flatten the structure',
      });
    }
    this.skip();
    const c = this.text[this.pos];
    if (c === '{') return this.object(depth + 1);
    if (c === '[') return this.array(depth + 1);
    if (c === '"') return this.string();
    if (c === 't' && this.text.startsWith('true', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (c === 'f' && this.text.startsWith('false', this.pos)) {
      this.pos += 5;
      return false;
    }
    if (c === 'n' && this.text.startsWith('null', this.pos)) {
      this.pos += 4;
      return null;
    }
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = this.pos;
    const num = m.exec(this.text);
    if (num !== null) {
      this.pos += num[0].length;
      return Number(num[0]);
    }
    throw this.fail(`unexpected ${this.describeNext()}`);
  }

  private object(depth: number): TreeMap {
    this.pos++; // {
    const items: TreeItem[] = [];
    this.skip();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return map(items);
    }
    for (;;) {
      this.skip();
      if (this.text[this.pos] !== '"')
        throw this.fail(`expected a key in double quotes, found ${this.describeNext()}`);
      const line = this.line;
      const key = this.string();
      this.skip();
      if (this.text[this.pos] !== ':')
        throw this.fail(`expected ":" after the key, found ${this.describeNext()}`);
      this.pos++;
      items.push({ key, value: this.value(depth), line });
      this.skip();
      const next = this.text[this.pos];
      this.pos++;
      if (next === '}') return map(items);
      if (next !== ',') {
        this.pos--;
        throw this.fail(`expected "," or "}", found ${this.describeNext()}`);
      }
    }
  }

  private array(depth: number): TreeValue {
    this.pos++; // [
    const items: TreeValue[] = [];
    this.skip();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return list(items);
    }
    for (;;) {
      items.push(this.value(depth));
      this.skip();
      const next = this.text[this.pos];
      this.pos++;
      if (next === ']') return list(items);
      if (next !== ',') {
        this.pos--;
        throw this.fail(`expected "," or "]", found ${this.describeNext()}`);
      }
    }
  }

  private string(): string {
    const start = this.pos;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: JSON strings may not hold raw control characters
    const re = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
    re.lastIndex = start;
    const m = re.exec(this.text);
    if (m === null) {
      // Find where it goes wrong for the line number, without ever echoing the string itself.
      for (let i = start + 1; i < this.text.length && this.text[i] !== '"'; i++)
        if (this.text[i] === '\n') this.line++;
      throw this.fail('a string is not terminated or holds an invalid escape or control character');
    }
    this.pos += m[0].length;
    return JSON.parse(m[0]) as string;
  }
}

export function parseJsonTree(input: Buffer, file: string): TreeMap {
  return new JsonReader(input.toString('utf8'), file).document();
}

// --- writing, as Go's encoding/json Marshal followed by json.Indent with a tab ---

function encode(value: TreeValue, indent: string): string {
  if (isMap(value)) {
    const entries = value.items.filter((i): i is TreeItem & { key: string } => typeof i.key === 'string');
    if (entries.length === 0) return '{}';
    const inner = `${indent}\t`;
    return `{\n${entries.map((i) => `${inner}${JSON.stringify(i.key)}: ${encode(i.value, inner)}`).join(',\n')}\n${indent}}`;
  }
  if (isList(value)) {
    const items = value.items.filter((v) => !isComment(v));
    if (items.length === 0) return '[]';
    const inner = `${indent}\t`;
    return `[\n${items.map((v) => `${inner}${encode(v, inner)}`).join(',\n')}\n${indent}]`;
  }
  if (value === null || isComment(value)) return 'null';
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('utf8'));
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number')
    return Number.isFinite(value) ? JSON.stringify(value) : JSON.stringify(String(value));
  return JSON.stringify(value);
}

function load(input: Buffer, file: string): { branch: TreeMap; metadata: TreeItem | undefined } {
  const branch = parseJsonTree(input, file);
  const index = branch.items.findIndex((i) => i.key === SOPS_KEY);
  const metadata = index >= 0 ? branch.items[index] : undefined;
  if (index >= 0) branch.items.splice(index, 1);
  return { branch, metadata };
}

export const jsonStore: Store = {
  format: 'json',
  loadPlain(input, file) {
    const { branch, metadata } = load(input, file);
    if (metadata !== undefined) {
      throw new SecretsError('usage', 'is already encrypted (it has a top-level "sops" key)', {
        file,
        ...(metadata.line === undefined ? {} : { line: metadata.line }),
        hint: 'decrypt it first, or use `plumbline secrets edit` to change it',
      });
    }
    return [branch];
  },
  loadEncrypted(input, file) {
    const { branch, metadata } = load(input, file);
    if (metadata === undefined) return undefined;
    return { branches: [branch], metadata: metadata.value, metadataLine: metadata.line };
  },
  emitPlain(branches) {
    return Buffer.from(`${encode(branches[0] ?? map(), '')}\n`, 'utf8');
  },
  emitEncrypted(branches, metadata) {
    const branch = branches[0] ?? map();
    return Buffer.from(`${encode(map([...branch.items, { key: SOPS_KEY, value: metadata }]), '')}\n`, 'utf8');
  },
};

/** Any file, kept whole as the string `data` (getsops/sops BinaryStore); the encrypted form is JSON. */
export const binaryStore: Store = {
  format: 'binary',
  loadPlain(input) {
    const text = input.toString('utf8');
    const data = Buffer.from(text, 'utf8').equals(input) ? text : new Uint8Array(input);
    return [map([{ key: 'data', value: data }])];
  },
  loadEncrypted(input, file) {
    return jsonStore.loadEncrypted(input, file);
  },
  emitPlain(branches) {
    const data = branches[0]?.items.find((i) => i.key === 'data')?.value;
    if (typeof data === 'string') return Buffer.from(data, 'utf8');
    if (data instanceof Uint8Array) return Buffer.from(data);
    throw new SecretsError('malformed', 'a binary SOPS file needs a string "data" value', {
      hint: 'name the format of this file with --format yaml, json or dotenv',
    });
  },
  emitEncrypted(branches, metadata) {
    return jsonStore.emitEncrypted(branches, metadata);
  },
};
