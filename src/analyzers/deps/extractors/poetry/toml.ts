// TOML lockfiles and manifests: parse errors become LockfileError with their line, and each `[[table]]` header
// gives the line where an entry starts. Shared by the poetry, uv, pdm, cargo and pipenv extractors.
import { posix } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { type ExtractContext, LockfileError } from '../../types.js';

export type TomlTable = Record<string, unknown>;

/** Parses a TOML lockfile; throws LockfileError (with the line) when it is empty or not TOML. */
export function parseTomlLock(content: string, what: string): TomlTable {
  if (content.trim() === '') throw new LockfileError(`${what} is empty`);
  const nul = content.indexOf('\u0000');
  if (nul !== -1) throw new LockfileError(`${what} is binary`, lineOfOffset(content, nul));
  try {
    return parse(content) as TomlTable;
  } catch (error) {
    if (error instanceof TomlError) {
      const reason = error.message.split('\n')[0] ?? 'syntax error';
      throw new LockfileError(`${what} is not valid TOML: ${reason}`, error.line);
    }
    throw new LockfileError(`${what} is not valid TOML: ${error instanceof Error ? error.message : 'error'}`);
  }
}

/** Reads and parses a TOML manifest beside the lockfile; undefined when it is missing or unreadable. */
export function readSiblingToml(context: ExtractContext, fileName: string): TomlTable | undefined {
  const path = posix.join(posix.dirname(context.path), fileName);
  const text = context.readFile(path);
  if (text === undefined) return undefined;
  try {
    return parse(text) as TomlTable;
  } catch {
    return undefined;
  }
}

/** 1-based lines of every `[[name]]` array-of-tables header, in order. */
export function arrayTableLines(content: string, name: string): number[] {
  const header = new RegExp(
    `^[ \\t]*\\[\\[[ \\t]*${name.replace(/[.]/g, '\\.')}[ \\t]*\\]\\][ \\t]*(?:#.*)?$`,
  );
  const lines: number[] = [];
  content.split('\n').forEach((line, index) => {
    if (header.test(line.replace(/\r$/, ''))) lines.push(index + 1);
  });
  return lines;
}

/** The 1-based line holding `offset`. */
export function lineOfOffset(content: string, offset: number): number {
  let line = 1;
  for (let at = content.indexOf('\n'); at !== -1 && at < offset; at = content.indexOf('\n', at + 1)) line++;
  return line;
}

/** A plain object (table) or undefined. */
export function asTable(value: unknown): TomlTable | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as TomlTable)
    : undefined;
}

/** The array or an empty one. */
export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
