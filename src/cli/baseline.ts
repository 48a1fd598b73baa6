// `plumbline baseline`: record today's findings so that checks gate only on new ones.
import { join } from 'node:path';
import type { Command } from 'commander';
import { runCheck } from '../check/run.js';
import { DEFAULT_BASELINE, writeBaseline } from '../findings/baseline.js';

export function registerBaseline(program: Command): void {
  program
    .command('baseline')
    .description('write the fingerprints of current findings to .plumbline/baseline.json')
    .argument('[path]', 'folder to scan', '.')
    .option('--output <file>', `baseline file (default <path>/${DEFAULT_BASELINE})`)
    .option('--only <analyzers>', 'record only these analyzers, comma-separated')
    .option('--config <file>', 'configuration file (default plumbline.yaml in the scanned folder)')
    .addHelpText(
      'after',
      `
The baseline holds fingerprints (rule, path, matched content, occurrence), sorted, one per line and no
line numbers, so moving code keeps findings known and two branches' baselines merge cleanly. Suppressed
findings are left out: their suppression already covers them.

Examples:
  plumbline baseline                    then commit .plumbline/baseline.json
  plumbline check --baseline            fails only on findings that are not in it

Exit codes: 0 written, 2 bad usage or configuration, 3 internal failure.`,
    )
    .action(async (path: string, opts: { output?: string; only?: string; config?: string }) => {
      const report = await runCheck({
        path,
        source: { kind: 'tree' },
        ...(opts.only === undefined ? {} : { only: opts.only.split(',').map((s) => s.trim()) }),
        ...(opts.config === undefined ? {} : { configFile: opts.config }),
      });
      const file = opts.output ?? join(path, DEFAULT_BASELINE);
      const count = writeBaseline(
        file,
        report.findings.filter((f) => f.suppression === undefined),
      );
      process.stderr.write(`plumbline: wrote ${count} fingerprint(s) to ${file}\n`);
    });
}
