// Reads one file and scans it: the unit of work a worker thread does. Binary and oversized files are skipped
// with a reason, never read whole.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { Skipped } from '../../report/types.js';
import { type CompiledRules, scanBytes } from './engine.js';

/** A match as it crosses a thread boundary: the rule by id. */
export interface WireMatch {
  readonly ruleId: string;
  readonly secret: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly lineText: string;
  readonly lineSpan: readonly [number, number];
  readonly inlineAllowed: boolean;
  readonly confidence: 'high' | 'medium' | 'low';
}

export interface FileResult {
  readonly path: string;
  readonly bytes: number;
  readonly matches: readonly WireMatch[];
  readonly skipped?: Skipped;
}

/** Git's heuristic: a NUL byte in the first 8000 bytes means binary. */
const BINARY_PROBE = 8000;

export function scanFile(
  absolute: string,
  path: string,
  compiled: CompiledRules,
  maxFileSize: number,
): FileResult {
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink in the tree may point anywhere (/etc/shadow); it is not the tree's content.
    fd = openSync(absolute, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    return unreadable(path, error);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { path, bytes: 0, matches: [] };
    if (stat.size > maxFileSize) {
      return {
        path,
        bytes: 0,
        matches: [],
        skipped: {
          path,
          reason: 'too-large',
          detail: `${stat.size} bytes, over the ${maxFileSize}-byte limit`,
        },
      };
    }
    const bytes = scratch(stat.size);
    let read = 0;
    while (read < stat.size) {
      const n = readSync(fd, bytes, read, stat.size - read, read);
      if (n === 0) break;
      read += n;
    }
    const content = bytes.subarray(0, read);
    const probe = content.subarray(0, BINARY_PROBE);
    if (probe.includes(0)) {
      return {
        path,
        bytes: 0,
        matches: [],
        skipped: { path, reason: 'binary', detail: 'contains NUL bytes' },
      };
    }
    return { path, bytes: read, matches: toWire(scanBytes(content, path, compiled)) };
  } catch (error) {
    return unreadable(path, error);
  } finally {
    closeSync(fd);
  }
}

export function toWire(matches: ReturnType<typeof scanBytes>): WireMatch[] {
  return matches.map((m) => ({
    ruleId: m.rule.id,
    secret: m.secret,
    line: m.line,
    column: m.column,
    endLine: m.endLine,
    endColumn: m.endColumn,
    lineText: m.lineText,
    lineSpan: m.lineSpan,
    inlineAllowed: m.inlineAllowed,
    confidence: m.confidence,
  }));
}

/**
 * One reusable read buffer per thread: allocating a fresh one per file costs page faults and garbage
 * collection. Safe because a file's bytes are not kept past its scan (matches copy what they need).
 */
let buffer = Buffer.allocUnsafe(1 << 20);
function scratch(size: number): Buffer {
  if (buffer.length < size) buffer = Buffer.allocUnsafe(Math.max(size, buffer.length * 2));
  return buffer;
}

function unreadable(path: string, error: unknown): FileResult {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  // Deleted since it was listed, or a symlink (ELOOP with O_NOFOLLOW): nothing of the tree's to read.
  if (code === 'ENOENT' || code === 'ELOOP') return { path, bytes: 0, matches: [] };
  return { path, bytes: 0, matches: [], skipped: { path, reason: 'unreadable', detail: code } };
}
