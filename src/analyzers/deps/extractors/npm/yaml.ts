// Reads a YAML lockfile (pnpm-lock.yaml, Berry yarn.lock) with line numbers, every scalar kept as a string.
import { type Document, isMap, isScalar, LineCounter, parseAllDocuments } from 'yaml';
import { LockfileError } from '../../types.js';

export interface ParsedYaml {
  /** The document as plain values (failsafe schema: scalars are strings, `{}`/`[]` are objects/arrays). */
  readonly value: unknown;
  /** 1-based lines of the keys of the mapping at `path` (`['packages']`), by key. */
  keyLines(path: readonly string[]): Map<string, number>;
  /** How many YAML documents the stream held. */
  readonly documents: number;
}

/** Parses YAML; throws LockfileError with the line of the first syntax error. Reads the last document. */
export function parseYaml(content: string, what: string): ParsedYaml {
  const lineCounter = new LineCounter();
  let docs: Document.Parsed[];
  try {
    docs = Array.from(
      parseAllDocuments(content, { lineCounter, schema: 'failsafe', uniqueKeys: false, prettyErrors: true }),
    );
  } catch (error) {
    throw new LockfileError(`${what} could not be read as YAML: ${(error as Error).message}`);
  }
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error !== undefined) {
      const line = error.linePos?.[0]?.line ?? lineCounter.linePos(error.pos[0]).line;
      const message = error.message.split('\n')[0] ?? error.message;
      throw new LockfileError(`${what} is not valid YAML: ${message}`, line);
    }
  }
  const doc = docs.at(-1);
  if (doc === undefined || !isMap(doc.contents)) {
    throw new LockfileError(`${what} is not a lockfile: its top level is not a mapping`, 1);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    throw new LockfileError(`${what} could not be read as YAML: ${(error as Error).message}`);
  }
  const main = doc;
  return {
    value,
    documents: docs.length,
    keyLines(path: readonly string[]): Map<string, number> {
      const lines = new Map<string, number>();
      const node = path.length === 0 ? main.contents : main.getIn(path, true);
      if (!isMap(node)) return lines;
      for (const item of node.items) {
        const key = item.key;
        if (isScalar(key) && key.range !== undefined && key.range !== null) {
          lines.set(String(key.value), lineCounter.linePos(key.range[0]).line);
        }
      }
      return lines;
    },
  };
}

/** True for a plain object (a YAML mapping). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
