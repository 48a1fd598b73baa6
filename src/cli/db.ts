// `plumbline db`: the offline advisory store: import OSV exports, and say what is loaded.
import type { Command } from 'commander';
import { writeOutput } from './output.js';

export function registerDb(program: Command): void {
  const db = program.command('db').description('manage the offline OSV advisory database');
  db.command('import')
    .description(
      'import OSV exports: zips of OSV JSON documents (as osv.dev publishes per ecosystem) or folders of JSON/YAML',
    )
    .argument('<paths...>', 'zip files or folders')
    .option(
      '--data-dir <dir>',
      'where the database lives (default $PLUMBLINE_DATA_DIR or ~/.local/share/plumbline)',
    )
    .option('--json', 'print the import record as JSON')
    .addHelpText(
      'after',
      `
Documents are upserted by id (a newer "modified" wins); withdrawn ones are kept but never matched.

Examples:
  plumbline db import ~/Downloads/npm.zip ~/Downloads/PyPI.zip
  plumbline db import ./advisories/ --data-dir .plumbline/db

Exit codes: 0 imported, 2 a path is missing or not an OSV export, 3 internal failure.`,
    )
    .action(async (paths: string[], opts: { dataDir?: string; json?: boolean }) => {
      const { AdvisoryStore } = await import('../store/advisories.js');
      const { defaultDataDir } = await import('../analyzers/deps/run.js');
      const store = AdvisoryStore.open(opts.dataDir ?? defaultDataDir());
      try {
        const tty = process.stderr.isTTY === true && opts.json !== true;
        const record = store.importPaths(paths, {
          onProgress: (p) => {
            if (tty) process.stderr.write(`\r\x1b[2Kimporting ${p.path}: ${p.done}/${p.total}`);
          },
        });
        if (tty) process.stderr.write('\r\x1b[2K');
        if (opts.json === true) {
          writeOutput(undefined, JSON.stringify(record, null, 2));
          return;
        }
        const skipped = Object.entries(record.skippedReasons).map(([why, n]) => `    ${n} × ${why}`);
        writeOutput(
          undefined,
          [
            `imported ${record.documents} documents from ${record.sources.length} source(s): ${record.inserted} new, ${record.updated} updated, ${record.unchanged} unchanged, ${record.stale} older than stored`,
            ...(record.skipped > 0 ? [`  skipped ${record.skipped}:`, ...skipped] : []),
            `snapshot ${record.contentHash}`,
          ].join('\n'),
        );
      } finally {
        store.close();
      }
    });
  db.command('status')
    .description('what is loaded, from when, and the content hash that names the snapshot')
    .option(
      '--data-dir <dir>',
      'where the database lives (default $PLUMBLINE_DATA_DIR or ~/.local/share/plumbline)',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  plumbline db status\n  plumbline db status --json | jq .contentHash',
    )
    .action(async (opts: { dataDir?: string; json?: boolean }) => {
      const { AdvisoryStore } = await import('../store/advisories.js');
      const { defaultDataDir } = await import('../analyzers/deps/run.js');
      const store = AdvisoryStore.open(opts.dataDir ?? defaultDataDir());
      try {
        const status = store.status();
        if (opts.json === true) {
          writeOutput(undefined, JSON.stringify(status, null, 2));
          return;
        }
        const ecosystems = Object.entries(status.byEcosystem)
          .sort((a, b) => b[1] - a[1])
          .map(([eco, n]) => `  ${eco.padEnd(12)} ${n}`);
        writeOutput(
          undefined,
          [
            `database   ${status.path}`,
            `documents  ${status.documents} (${status.withdrawn} withdrawn)`,
            ...ecosystems,
            `newest     ${status.newestModified ?? '-'}`,
            `imported   ${status.lastImport?.at ?? 'never: run plumbline db import'}`,
            ...(status.lastImport?.sources ?? []).map(
              (s) => `  ${s.path} (sha256 ${s.sha256.slice(0, 16)}…)`,
            ),
            `snapshot   ${status.contentHash}`,
          ].join('\n'),
        );
      } finally {
        store.close();
      }
    });
}
