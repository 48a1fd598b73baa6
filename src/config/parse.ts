// Parses plumbline.yaml: several Kubernetes-style documents, each validated against its kind's schema.
// Errors name the file, the line and the field, and say what to do. Loaded only when a file exists.
import { type Document, isNode, LineCounter, parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { LoadedDocument, ResolvedConfig } from './load.js';
import {
  API_VERSION,
  type CheckSpec,
  checkSpecSchema,
  DOCUMENT_SCHEMAS,
  type DocumentKind,
} from './schema.js';

export function parseConfig(text: string, file: string): ResolvedConfig {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (!Array.isArray(docs)) {
    throw new ConfigError(
      file,
      undefined,
      undefined,
      'is not a YAML stream',
      'write YAML documents separated by ---',
    );
  }
  const lineOf = (offset: number | undefined): number | undefined =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;

  const documents: LoadedDocument[] = [];
  for (const doc of docs) {
    const firstError = doc.errors[0];
    if (firstError !== undefined) {
      throw new ConfigError(
        file,
        lineOf(firstError.pos[0]),
        undefined,
        `YAML syntax error: ${firstError.message.split('\n')[0]}`,
        'fix the YAML syntax at that line (indentation, quotes, a missing colon)',
      );
    }
    if (doc.contents === null) continue; // an empty document between `---` separators
    const docLine = lineOf(doc.contents.range[0]) ?? 1;
    let raw: unknown;
    try {
      raw = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      throw new ConfigError(
        file,
        docLine,
        undefined,
        `cannot be expanded: ${(error as Error).message}`,
        'use fewer YAML aliases',
      );
    }
    if (raw === null || raw === undefined) continue; // an empty document
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ConfigError(
        file,
        docLine,
        undefined,
        'a document must be a mapping with apiVersion, kind, metadata and spec',
        'start each document with apiVersion: plumbline.dev/v1alpha1 and a kind, e.g. kind: Check',
      );
    }
    const record = raw as Record<string, unknown>;
    if (record.apiVersion !== API_VERSION) {
      throw new ConfigError(
        file,
        lineAt(doc, ['apiVersion'], lineOf) ?? docLine,
        'apiVersion',
        `must be "${API_VERSION}" (found ${JSON.stringify(record.apiVersion ?? null)})`,
        `set apiVersion: ${API_VERSION}`,
      );
    }
    const kind = record.kind;
    if (typeof kind !== 'string' || !(kind in DOCUMENT_SCHEMAS)) {
      throw new ConfigError(
        file,
        lineAt(doc, ['kind'], lineOf) ?? docLine,
        'kind',
        `unknown kind ${JSON.stringify(kind ?? null)}`,
        `use one of: ${Object.keys(DOCUMENT_SCHEMAS).join(', ')}`,
      );
    }
    const schema: z.ZodType = DOCUMENT_SCHEMAS[kind as DocumentKind];
    const result = schema.safeParse(raw);
    if (!result.success) {
      const issue = result.error.issues[0];
      const path = (issue?.path ?? []).map((p) => (typeof p === 'symbol' ? String(p) : p));
      let message = issue?.message ?? 'invalid';
      if (issue?.code === 'unrecognized_keys' && issue.keys[0] !== undefined) {
        path.push(issue.keys[0]);
        message = 'unknown field: check its spelling and indentation, or remove it';
      }
      throw new ConfigError(
        file,
        lineAt(doc, path, lineOf) ?? docLine,
        path.length > 0 ? formatPath(path) : undefined,
        message,
        `see the ${kind} reference in the README, or run \`plumbline schema\` for the JSON Schema`,
      );
    }
    const value = result.data as { metadata?: { name?: string } };
    documents.push({
      kind: kind as DocumentKind,
      name: value.metadata?.name ?? 'default',
      line: docLine,
      value,
    });
  }

  const checks = documents.filter((d) => d.kind === 'Check');
  if (checks.length > 1) {
    throw new ConfigError(
      file,
      checks[1]?.line,
      'kind',
      'more than one Check document',
      'merge them into one',
    );
  }
  const check = (checks[0]?.value as { spec: CheckSpec } | undefined)?.spec ?? checkSpecSchema.parse({});
  return { file, check, documents };
}

/** The line of the deepest node that exists along `path` (a missing field points at its parent). */
function lineAt(
  doc: Document,
  path: readonly (string | number)[],
  lineOf: (offset: number | undefined) => number | undefined,
): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return lineOf(node.range[0]);
  }
  return undefined;
}

function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
