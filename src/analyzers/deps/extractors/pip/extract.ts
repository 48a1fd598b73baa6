// Reads pip requirements files: the pinned (`==`, `===`) requirements, following `-r` and `-c` includes.
// Mirrors pip's own reading: `\` continues a line, `#` after whitespace starts a comment, options may follow
// a requirement (`--hash=…`), and an environment marker (`; python_version < "3.8"`) does not change the pin.
import { posix } from 'node:path';
import { type ExtractContext, LockfileError, type Package } from '../../types.js';
import { normalizePypiName, pypiPurl } from './pep508.js';

/** One logical line: continuations joined, the comment removed, trimmed. */
export interface LogicalLine {
  /** 1-based line where it starts. */
  readonly line: number;
  readonly text: string;
}

export type ParsedLine =
  | { readonly kind: 'blank' }
  | { readonly kind: 'option' }
  | { readonly kind: 'include'; readonly path: string; readonly constraint: boolean }
  | { readonly kind: 'requirement'; readonly name: string; readonly version: string | undefined }
  | { readonly kind: 'invalid' };

/** No distribution has a longer name; a "name" this long is junk. */
const MAX_NAME = 256;

/** Includes deeper than this are not followed (cycles are cut earlier, by path). */
const MAX_INCLUDE_DEPTH = 32;

function isCommentLine(line: string): boolean {
  return /^\s*#/.test(line);
}

function stripComment(line: string): string {
  for (let at = line.indexOf('#'); at !== -1; at = line.indexOf('#', at + 1)) {
    if (at === 0 || /\s/.test(line.charAt(at - 1))) return line.slice(0, at);
  }
  return line;
}

/** Splits a requirements file into logical lines, as pip's `join_lines` and `ignore_comments` do. */
export function logicalLines(content: string): LogicalLine[] {
  const out: LogicalLine[] = [];
  const physical = content.split('\n');
  let pending: string[] = [];
  let start = 0;
  physical.forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.endsWith('\\') && !isCommentLine(line)) {
      if (pending.length === 0) start = index + 1;
      pending.push(line.slice(0, -1));
      return;
    }
    if (pending.length > 0) {
      pending.push(isCommentLine(line) ? ` ${line}` : line);
      out.push({ line: start, text: stripComment(pending.join('')).trim() });
      pending = [];
    } else {
      out.push({ line: index + 1, text: stripComment(line).trim() });
    }
  });
  if (pending.length > 0) out.push({ line: start, text: stripComment(pending.join('')).trim() });
  return out;
}

const SHORT_OPTION = /^-([a-zA-Z])\s*([\s\S]*)$/;
const LONG_OPTION = /^--([a-zA-Z][a-zA-Z0-9-]*)(?:\s*=\s*|\s+|$)([\s\S]*)$/;
const REQUIREMENT = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([\s\S]*)$/;
const SPECIFIER = /^(~=|===|==|!=|<=|>=|<|>)\s*([^\s,;]+)$/;

function parseOption(text: string): ParsedLine {
  const short = SHORT_OPTION.exec(text);
  const long = short === null ? LONG_OPTION.exec(text) : null;
  const option = short?.[1] ?? long?.[1];
  const rest = short?.[2] ?? long?.[2] ?? '';
  if (option === undefined) return { kind: 'invalid' };
  const value = (rest.split(/\s+/)[0] ?? '').replace(/^(['"])(.*)\1$/, '$2');
  if (option === 'r' || option === 'requirement') {
    return value === '' ? { kind: 'option' } : { kind: 'include', path: value, constraint: false };
  }
  if (option === 'c' || option === 'constraint') {
    return value === '' ? { kind: 'option' } : { kind: 'include', path: value, constraint: true };
  }
  return { kind: 'option' };
}

/** Parses one logical line of a requirements file. */
export function parseLine(text: string): ParsedLine {
  if (text === '') return { kind: 'blank' };
  if (text.startsWith('-')) return parseOption(text);
  // Options after the requirement (`--hash=…`, `--config-settings …`) do not change it.
  const optionAt = text.search(/\s-{1,2}[a-zA-Z]/);
  const requirement = optionAt === -1 ? text : text.slice(0, optionAt).trim();
  // Local paths and URLs name no registry version.
  if (/^[./\\~]/.test(requirement) || /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(requirement))
    return { kind: 'option' };
  const match = REQUIREMENT.exec(requirement);
  if (match === null) return { kind: 'invalid' };
  const name = match[1] ?? '';
  if (name.length > MAX_NAME) return { kind: 'invalid' };
  const rest = (match[3] ?? '').trim();
  if (rest.startsWith('@')) return { kind: 'requirement', name, version: undefined };
  const markerAt = rest.indexOf(';');
  let spec = (markerAt === -1 ? rest : rest.slice(0, markerAt)).trim();
  if (spec.startsWith('(') && spec.endsWith(')')) spec = spec.slice(1, -1).trim();
  if (spec === '') return { kind: 'requirement', name, version: undefined };
  const specifiers = spec.split(',').map((part) => SPECIFIER.exec(part.trim()));
  if (specifiers.some((specifier) => specifier === null)) return { kind: 'invalid' };
  const only = specifiers.length === 1 ? specifiers[0] : undefined;
  const operator = only?.[1];
  const version = only?.[2];
  const pinned = operator === '===' || (operator === '==' && version !== undefined && !version.includes('*'));
  return { kind: 'requirement', name, version: pinned ? version : undefined };
}

/** The repository-relative path an include names, or undefined for URLs and paths outside the root. */
function resolveInclude(from: string, target: string): string | undefined {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(target) || posix.isAbsolute(target)) return undefined;
  const resolved = posix.normalize(posix.join(posix.dirname(from), target.replace(/\\/g, '/')));
  return resolved === '..' || resolved.startsWith('../') ? undefined : resolved;
}

interface Walk {
  readonly context: ExtractContext;
  readonly packages: Package[];
  readonly keys: Set<string>;
  readonly visited: Set<string>;
}

interface FileSummary {
  readonly recognized: number;
  readonly firstInvalid: number | undefined;
}

function readFile(walk: Walk, content: string, file: string, depth: number): FileSummary {
  let recognized = 0;
  let firstInvalid: number | undefined;
  for (const { line, text } of logicalLines(content)) {
    const parsed = parseLine(text);
    if (parsed.kind === 'invalid') {
      firstInvalid ??= line;
      continue;
    }
    if (parsed.kind !== 'blank') recognized++;
    if (parsed.kind === 'include') {
      const target = resolveInclude(file, parsed.path);
      if (target === undefined || walk.visited.has(target) || depth >= MAX_INCLUDE_DEPTH) continue;
      walk.visited.add(target);
      const included = walk.context.readFile(target);
      if (included !== undefined && !included.includes('\u0000')) readFile(walk, included, target, depth + 1);
      continue;
    }
    if (parsed.kind !== 'requirement' || parsed.version === undefined) continue;
    const key = `${normalizePypiName(parsed.name)}@${parsed.version}`;
    if (walk.keys.has(key)) continue;
    walk.keys.add(key);
    walk.packages.push({
      ecosystem: 'PyPI',
      name: parsed.name,
      version: parsed.version,
      purl: pypiPurl(parsed.name, parsed.version),
      direct: true,
      dev: false,
      file,
      line,
      source: 'registry',
      key,
    });
  }
  return { recognized, firstInvalid };
}

/** Extracts the pinned requirements of a requirements file and the files it includes. */
export function extractRequirements(content: string, context: ExtractContext): Package[] {
  const nul = content.indexOf('\u0000');
  if (nul !== -1) {
    throw new LockfileError('requirements file is binary', content.slice(0, nul).split('\n').length);
  }
  const walk: Walk = {
    context,
    packages: [],
    keys: new Set(),
    visited: new Set([posix.normalize(context.path)]),
  };
  const summary = readFile(
    walk,
    content.charCodeAt(0) === 0xfeff ? content.slice(1) : content,
    context.path,
    0,
  );
  if (summary.recognized === 0 && summary.firstInvalid !== undefined) {
    throw new LockfileError(
      `not a requirements file: line ${summary.firstInvalid} is not a requirement`,
      summary.firstInvalid,
    );
  }
  return walk.packages;
}
