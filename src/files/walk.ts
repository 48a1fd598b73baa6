// Lists the files a tree scan reads: in a Git work tree what git tracks plus untracked files it does not
// ignore; in a plain folder every file, honouring .gitignore files. Then the Check's include/exclude globs.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import type { Ignore } from 'ignore';
import picomatch from 'picomatch';
import { findWorkTree, git } from '../git/git.js';

export interface WalkOptions {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

/** Returns paths relative to `root`, with forward slashes, sorted. */
export function listFiles(root: string, options: WalkOptions): string[] {
  const files = findWorkTree(root) === undefined ? walkFolder(root) : gitFiles(root);
  return filterPaths(files, options).sort();
}

export function filterPaths(paths: readonly string[], options: WalkOptions): string[] {
  const include = options.include.length > 0 ? picomatch([...options.include], { dot: true }) : undefined;
  const exclude = options.exclude.length > 0 ? picomatch([...options.exclude], { dot: true }) : undefined;
  return paths.filter((p) => (include === undefined || include(p)) && (exclude === undefined || !exclude(p)));
}

function gitFiles(root: string): string[] {
  const out = git(root, [
    'ls-files',
    '-z',
    '--cached',
    '--others',
    '--exclude-standard',
    '--deduplicate',
    '--',
    '.',
  ]);
  return out.split('\0').filter((p) => p.length > 0);
}

/** `ignore` is needed only for plain folders: loaded on first use. */
function newIgnore(): Ignore {
  const load = createRequire(import.meta.url)('ignore') as (options?: object) => Ignore;
  return load();
}

function walkFolder(root: string): string[] {
  const files: string[] = [];
  const visit = (dir: string, rules: readonly { base: string; ig: Ignore }[]): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // unreadable folder: nothing to list (the scan reports unreadable files, not folders)
    }
    const here = [...rules];
    const gitignore = entries.find((e) => e.isFile() && e.name === '.gitignore');
    if (gitignore !== undefined) {
      try {
        here.push({ base: dir, ig: newIgnore().add(readFileSync(join(dir, '.gitignore'), 'utf8')) });
      } catch {
        // an unreadable .gitignore ignores nothing
      }
    }
    for (const entry of entries) {
      if (entry.name === '.git') continue;
      const full = join(dir, entry.name);
      const isDir = entry.isDirectory();
      if (!isDir && !entry.isFile()) continue; // symlinks, sockets, devices
      const ignored = here.some(({ base, ig }) => {
        const rel = relative(base, full).split(sep).join('/');
        return ig.ignores(isDir ? `${rel}/` : rel);
      });
      if (ignored) continue;
      if (isDir) visit(full, here);
      else files.push(relative(root, full).split(sep).join('/'));
    }
  };
  visit(root, []);
  return files;
}
