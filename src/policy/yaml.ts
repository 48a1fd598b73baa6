// Reading YAML streams for the policy engine: every document with its first line and a way to find the line
// of any field in it, so that errors and findings can say file:line.
import { type Document, isMap, isNode, isScalar, LineCounter, parseAllDocuments } from 'yaml';
import { ConfigError } from '../errors.js';

export interface YamlDocument {
  /** The document as plain data (maps as objects, integers as numbers). */
  readonly value: unknown;
  /** 1-based line where the document's content starts. */
  readonly line: number;
  /** The line of the deepest existing node along a path (a missing field points at its parent). */
  lineOf(path: readonly (string | number)[]): number;
}

export interface YamlProblem {
  readonly line: number | undefined;
  readonly message: string;
}

/**
 * Every non-empty document of a YAML stream. Syntax errors are returned per document (the other documents are
 * still read), so that callers can be strict (policies) or lenient (manifests, parameters).
 */
export function readYamlStream(text: string): { documents: YamlDocument[]; problems: YamlProblem[] } {
  const lineCounter = new LineCounter();
  const documents: YamlDocument[] = [];
  const problems: YamlProblem[] = [];
  const lineAt = (offset: number): number => lineCounter.linePos(offset).line;
  for (const doc of parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true })) {
    const error = doc.errors[0];
    if (error !== undefined) {
      problems.push({
        line: lineAt(error.pos[0]),
        message: `YAML syntax error: ${error.message.split('\n')[0]}`,
      });
      continue;
    }
    if (doc.contents === null) continue;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      problems.push({
        line: lineAt(doc.contents.range[0]),
        message: `cannot be expanded: ${(e as Error).message}`,
      });
      continue;
    }
    if (value === null || value === undefined) continue;
    const line = lineAt(doc.contents.range[0]);
    documents.push({ value, line, lineOf: (path) => lineIn(doc, path, lineAt) ?? line });
  }
  return { documents, problems };
}

function lineIn(
  doc: Document,
  path: readonly (string | number)[],
  lineAt: (offset: number) => number,
): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    // A field's line is its key's (the value may start on the next line, or be missing).
    const last = path[depth - 1];
    if (depth > 0 && typeof last === 'string') {
      const parent = doc.getIn(path.slice(0, depth - 1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
        if (pair !== undefined && isNode(pair.key) && pair.key.range) return lineAt(pair.key.range[0]);
      }
    }
    const node = doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return lineAt(node.range[0]);
  }
  return undefined;
}

/** Reads a YAML stream and throws the first syntax problem as a ConfigError naming the file and line. */
export function readYamlStrict(text: string, file: string): YamlDocument[] {
  const { documents, problems } = readYamlStream(text);
  const first = problems[0];
  if (first !== undefined) {
    throw new ConfigError(
      file,
      first.line,
      undefined,
      first.message,
      'fix the YAML syntax at that line (indentation, quotes, a missing colon)',
    );
  }
  return documents;
}

/** `spec.validations[0].expression` from a path. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
