// Test helpers for the JavaScript lockfile extractors: fixture folders as scan roots, and malformed inputs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type ExtractContext, LockfileError, type Package } from '../../types.js';

/** A context whose scan root is a fixture folder; `path` is the lockfile's repository-relative path. */
export function fixtureContext(dir: string, path: string): ExtractContext {
  return {
    path,
    readFile(relativePath: string): string | undefined {
      try {
        return readFileSync(join(dir, relativePath), 'utf8');
      } catch {
        return undefined;
      }
    },
  };
}

/** A context that finds no other file. */
export function bareContext(path: string): ExtractContext {
  return { path, readFile: () => undefined };
}

export function readFixture(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8');
}

/** The one package with this key (fails when there is not exactly one). */
export function byKey(packages: readonly Package[], key: string): Package {
  const found = packages.filter((pkg) => pkg.key === key);
  expect(found, `packages with key ${key}`).toHaveLength(1);
  return found[0] as Package;
}

/** The packages of one name, in file order. */
export function byName(packages: readonly Package[], name: string): Package[] {
  return packages.filter((pkg) => pkg.name === name);
}

/** Runs `run` and returns the LockfileError it throws; fails on any other outcome. */
export function lockfileError(run: () => unknown): LockfileError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(LockfileError);
    return error as LockfileError;
  }
  throw new Error('expected a LockfileError, but nothing was thrown');
}

/** Random bytes (a fixed seed), decoded as UTF-8 the way a scanner would read a binary file. */
export function binaryGarbage(size = 4096, seed = 7): string {
  const bytes = new Uint8Array(size);
  let state = seed;
  for (let i = 0; i < size; i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    bytes[i] = state >> 16;
  }
  return new TextDecoder().decode(bytes);
}

/** About 10 MB of printable junk, in lines. */
export function tenMegabytesOfJunk(): string {
  const line = 'lorem ipsum }{ ][ "dolor" : sit, amet @@ -- ## ,, :: \'\' 12.5e+ \\ ~~~ |>\n';
  return line.repeat(Math.ceil((10 * 1024 * 1024) / line.length));
}

/** A deterministic generator of numbers in [0, 1), for fuzzing. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 0x100000000;
  };
}

/**
 * Mutates `content` (truncation, deleted or inserted characters) `rounds` times and checks the extractor
 * either reads the result or throws LockfileError, never another exception.
 */
export function fuzz(content: string, rounds: number, extract: (text: string) => unknown): void {
  const next = random(content.length);
  const inserts = [
    '{',
    '}',
    '[',
    ']',
    '"',
    ':',
    ',',
    '\n',
    '  ',
    '\t',
    '-',
    '#',
    "'",
    '@',
    '\u0000',
    '(',
    '|',
  ];
  for (let round = 0; round < rounds; round++) {
    let text = content;
    const cut = Math.floor(next() * text.length);
    switch (round % 3) {
      case 0:
        text = text.slice(0, cut);
        break;
      case 1:
        text = text.slice(0, cut) + text.slice(cut + 1 + Math.floor(next() * 40));
        break;
      default:
        text = text.slice(0, cut) + (inserts[Math.floor(next() * inserts.length)] ?? '') + text.slice(cut);
    }
    try {
      extract(text);
    } catch (error) {
      if (!(error instanceof LockfileError)) {
        throw new Error(`round ${round} (cut at ${cut}) threw ${String(error)}`);
      }
    }
  }
}
