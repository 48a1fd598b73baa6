// `plumbline hook install`: a Git pre-commit hook that blocks commits adding secrets.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { InputError } from '../errors.js';
import { git, requireWorkTree } from '../git/git.js';

const MARK = '# installed by plumbline hook install';

export function registerHook(program: Command): void {
  const hook = program.command('hook').description('manage the Git pre-commit hook');
  hook
    .command('install')
    .description('install a pre-commit hook that runs `plumbline check --staged`')
    .argument('[path]', 'a folder inside the repository', '.')
    .option('--force', 'replace a pre-commit hook that plumbline did not install')
    .addHelpText(
      'after',
      `
The hook runs the same plumbline that installed it (this Node.js and this script), on the staged lines only.
Skip it once with \`git commit --no-verify\`. With the pre-commit framework, use the plumbline hook from
.pre-commit-hooks.yaml instead.

Examples:
  plumbline hook install
  plumbline hook install --force

Exit codes: 0 installed, 2 not a Git repository or a foreign hook is in the way.`,
    )
    .action((path: string, opts: { force?: boolean }) => {
      const file = installHook(resolve(path), opts.force === true);
      process.stderr.write(`plumbline: installed ${file}\n`);
    });
}

export function installHook(path: string, force: boolean): string {
  const top = requireWorkTree(path, 'hook install');
  const hooksDir = git(top, ['rev-parse', '--git-path', 'hooks']).trim();
  const dir = isAbsolute(hooksDir) ? hooksDir : join(top, hooksDir);
  const file = join(dir, 'pre-commit');
  if (existsSync(file) && !readFileSync(file, 'utf8').includes(MARK) && !force) {
    throw new InputError(
      `${file} exists and was not installed by plumbline`,
      'call it from your hook, or pass --force to replace it',
    );
  }
  const bin = fileURLToPath(new URL('../../bin/plumbline.js', import.meta.url));
  const script = `#!/bin/sh
${MARK}
# Blocks a commit that adds secrets. Bypass once: git commit --no-verify
exec ${shellQuote(process.execPath)} ${shellQuote(bin)} check --staged --quiet --format text "$@"
`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, script);
  chmodSync(file, 0o755);
  return file;
}

/** Single-quotes a path for the generated sh script. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
