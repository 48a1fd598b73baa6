// Test helpers shared by the lockfile extractor tests: fixture contexts, LockfileError capture, junk input.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { type ExtractContext, type Extractor, LockfileError, type Package } from '../../types.js';

/** A context rooted at a `__fixtures__` folder; `files` overrides or adds files by relative path. */
export function fixtureContext(root: URL, path: string, files: Record<string, string> = {}): ExtractContext {
  return {
    path,
    readFile(relative) {
      if (relative in files) return files[relative];
      try {
        return readFileSync(new URL(relative, root), 'utf8');
      } catch {
        return undefined;
      }
    },
  };
}

/** Extracts a fixture file, with the other fixtures readable beside it. */
export function extractFixture(extractor: Extractor, root: URL, path: string): Package[] {
  return extractor.extract(readFileSync(new URL(path, root), 'utf8'), fixtureContext(root, path));
}

/** Runs `run` and returns the LockfileError it throws; fails on any other outcome. */
export function thrown(run: () => unknown): LockfileError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(LockfileError);
    return error as LockfileError;
  }
  throw new Error('expected a LockfileError');
}

/** `size` pseudo-random bytes decoded as UTF-8, as a binary file reads. */
export function binaryJunk(size: number, seed = 1): string {
  const bytes = new Uint8Array(size);
  let state = seed;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return new TextDecoder().decode(bytes);
}

/** About `size` characters of printable junk in lines. */
export function textJunk(size: number): string {
  const line = '}{ ][ ::: <<>> ?? %% \\\\ junk ))( "\' @@ ~~~\n';
  return line.repeat(Math.ceil(size / line.length));
}

export const TEN_MB = 10 * 1024 * 1024;

/**
 * The malformed inputs every extractor must reject with LockfileError (never another error, never a hang):
 * binary garbage, 10 MB of junk on many lines and on one line. Returns the errors.
 */
export function expectJunkRejected(extractor: Extractor, path: string): LockfileError[] {
  const started = Date.now();
  const errors = [binaryJunk(4096), binaryJunk(TEN_MB, 7), textJunk(TEN_MB), 'x'.repeat(TEN_MB)].map((junk) =>
    thrown(() => extractor.extract(junk, fixtureContext(new URL('file:///nonexistent/'), path))),
  );
  expect(Date.now() - started).toBeLessThan(10_000);
  return errors;
}

/**
 * Truncates a fixture at many points and corrupts single characters: the extractor must return packages or
 * throw LockfileError, never anything else.
 */
export function expectDamageTolerated(extractor: Extractor, root: URL, path: string): void {
  const content = readFileSync(new URL(path, root), 'utf8');
  const context = fixtureContext(root, path);
  const step = Math.max(1, Math.floor(content.length / 150));
  const variants: string[] = [];
  for (let at = 0; at < content.length; at += step) {
    variants.push(content.slice(0, at));
    for (const junk of ['"', '[', '\u0000', '\n', '{', '<', ' ']) {
      variants.push(content.slice(0, at) + junk + content.slice(at + 1));
    }
  }
  for (const variant of variants) {
    try {
      const packages = extractor.extract(variant, context);
      for (const p of packages) {
        expect(p.line).toBeGreaterThanOrEqual(1);
        expect(typeof p.version).toBe('string');
      }
    } catch (error) {
      if (!(error instanceof LockfileError)) {
        throw new Error(`${path} damaged at ${variants.indexOf(variant)} threw ${String(error)}`);
      }
    }
  }
}
