// `plumbline sbom`: a CycloneDX or SPDX bill of materials from the repository's lockfiles.
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { VERSION } from '../version.js';
import { writeOutput } from './output.js';

export function registerSbom(program: Command): void {
  program
    .command('sbom')
    .description('write a software bill of materials (CycloneDX 1.5 or SPDX 2.3 JSON) from the lockfiles')
    .argument('[path]', 'folder to scan', '.')
    .option('--format <format>', 'cyclonedx or spdx', 'cyclonedx')
    .option('--output <file>', 'write to a file instead of stdout')
    .option('--config <file>', 'configuration file (its include and exclude paths apply)')
    .addHelpText(
      'after',
      `
Every package of every lockfile Plumbline reads (npm, yarn, pnpm, bun, pip, Pipenv, Poetry, uv, PDM, Go,
Cargo, Bundler, Composer, NuGet, Gradle, Maven), once per purl, with the dependency graph where the lockfile
records it.

Examples:
  plumbline sbom --output sbom.cdx.json
  plumbline sbom services/api --format spdx --output api.spdx.json

Exit codes: 0 written, 2 bad usage or input, 3 internal failure.`,
    )
    .action(async (path: string, opts: { format: string; output?: string; config?: string }) => {
      if (opts.format !== 'cyclonedx' && opts.format !== 'spdx') {
        throw new UsageError(`--format: unknown SBOM format "${opts.format}"`, 'use cyclonedx or spdx');
      }
      const root = resolve(path);
      const { loadConfig, CONFIG_FILE } = await import('../config/load.js');
      const { listFiles } = await import('../files/walk.js');
      const { extractAll } = await import('../analyzers/deps/run.js');
      const { cycloneDx, spdx } = await import('../sbom/sbom.js');
      const { InputError } = await import('../errors.js');
      const { statSync } = await import('node:fs');
      try {
        if (!statSync(root).isDirectory()) throw new InputError(`${root} is not a folder`);
      } catch (error) {
        if (error instanceof InputError) throw error;
        throw new InputError(`${root} does not exist`, 'give the folder to describe');
      }
      const config = await loadConfig(opts.config ?? `${root}/${CONFIG_FILE}`, {
        required: opts.config !== undefined,
      });
      const extracted = extractAll(root, listFiles(root, config.check.paths));
      for (const s of extracted.skipped) process.stderr.write(`plumbline: skipped ${s.path}: ${s.detail}\n`);
      const options = { name: basename(root), toolVersion: VERSION, timestamp: new Date().toISOString() };
      const doc =
        opts.format === 'spdx' ? spdx(extracted.packages, options) : cycloneDx(extracted.packages, options);
      writeOutput(opts.output, `${JSON.stringify(doc, null, 2)}\n`);
      if (opts.output !== undefined) {
        process.stderr.write(`plumbline: wrote ${extracted.packages.length} packages to ${opts.output}\n`);
      }
    });
}
