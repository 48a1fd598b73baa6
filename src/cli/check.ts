// `plumbline check`: parse flags, run the check, write each report, exit by the gate.
import { join } from 'node:path';
import type { Command } from 'commander';
import type { ScanSource } from '../analyzers/types.js';
import { runCheck } from '../check/run.js';
import { EXIT, UsageError } from '../errors.js';
import { DEFAULT_BASELINE } from '../findings/baseline.js';
import { SEVERITIES, type Severity } from '../findings/model.js';
import { silentProgress, terminalProgress } from '../observe/progress.js';
import { getReporter, REPORTERS } from '../report/index.js';
import type { ReportFormat } from '../report/types.js';
import { useColor, writeOutput } from './output.js';

interface Target {
  format: ReportFormat;
  output: string | undefined;
}

export const EXIT_CODES_HELP = `
Exit codes:
  0  nothing new at or above the --fail-on severity
  1  findings at or above it
  2  bad usage, configuration or input (the message says what to fix)
  3  an internal failure (a bug: please report it)`;

export function registerCheck(program: Command): void {
  const targets: Target[] = [];
  program
    .command('check')
    .description(
      'scan for secrets (and, later, vulnerable dependencies, insecure code, policy) and gate on findings',
    )
    .argument('[path]', 'folder to scan', '.')
    .option('--only <analyzers>', 'run only these analyzers, comma-separated (secrets, deps, policy)')
    .option('--staged', 'scan the lines staged in the Git index (for a pre-commit hook)')
    .option(
      '--history [range]',
      'scan the lines every commit added (all refs, or a revision range like main..HEAD)',
    )
    .option('--since <ref>', 'report only what lines added since the merge-base with <ref> introduce')
    .option(
      '--format <format>',
      `report format: ${Object.keys(REPORTERS).join(', ')} (repeatable; each may be followed by --output)`,
      (value: string) => {
        if (getReporter(value) === undefined) {
          throw new UsageError(
            `--format: unknown format "${value}"`,
            `use one of ${Object.keys(REPORTERS).join(', ')}`,
          );
        }
        targets.push({ format: value as ReportFormat, output: undefined });
        return value;
      },
    )
    .option(
      '--output <file>',
      'write the preceding --format to <file> instead of stdout',
      (value: string) => {
        const last = targets[targets.length - 1];
        if (last === undefined) targets.push({ format: 'text', output: value });
        else if (last.output !== undefined)
          throw new UsageError('--output: each --format takes one --output');
        else last.output = value;
        return value;
      },
    )
    .option('--json', 'shorthand for --format json to stdout')
    .option(
      '--fail-on <severity>',
      `fail at or above: ${SEVERITIES.join(', ')} (default: the config's, else high)`,
    )
    .option('--baseline [file]', `report only findings not in the baseline (default ${DEFAULT_BASELINE})`)
    .option('--suppressions <file>', 'suppressions file (default .plumbline/suppressions.yaml)')
    .option('--config <file>', 'configuration file (default plumbline.yaml in the scanned folder)')
    .option('--show-secrets', 'print secrets in full (never in CI logs!)')
    .option(
      '--data-dir <dir>',
      'advisory database folder for deps (default $PLUMBLINE_DATA_DIR or ~/.local/share/plumbline)',
    )
    .option('--online', 'deps: ask the OSV API instead of the local database')
    .option('--fixable-only', 'deps: report only vulnerabilities with a fixed version')
    .option(
      '--record <data-dir>',
      "append the verdict to the audit ledger in a controller data directory (e.g. .plumbline), the JSON report's digest as evidence",
    )
    .option('-q, --quiet', 'no progress and no text report unless asked for with --format')
    .addHelpText(
      'after',
      `
Examples:
  plumbline check                                  scan the working tree of this folder
  plumbline check --staged                         what a pre-commit hook runs
  plumbline check --history                        every commit on every branch
  plumbline check --history main..HEAD             only the commits of this branch
  plumbline check --since origin/main --format sarif --output plumbline.sarif --format markdown --output summary.md
  plumbline check --baseline                       gate only on findings not in .plumbline/baseline.json
  plumbline check --json --fail-on critical
  plumbline check --only deps --fixable-only       vulnerable dependencies that have a fix
  plumbline check --only deps --since origin/main  only packages this branch added or changed
  plumbline check --record .plumbline              and record the verdict in the audit ledger
${EXIT_CODES_HELP}`,
    )
    .action(async (path: string, opts: Record<string, unknown>) => {
      const code = await checkCommand(path, opts, targets);
      process.exitCode = code;
    });
}

async function checkCommand(path: string, opts: Record<string, unknown>, targets: Target[]): Promise<number> {
  const failOn = opts.failOn as string | undefined;
  if (failOn !== undefined && !(SEVERITIES as readonly string[]).includes(failOn)) {
    throw new UsageError(`--fail-on: unknown severity "${failOn}"`, `use one of ${SEVERITIES.join(', ')}`);
  }
  if (opts.staged === true && opts.history !== undefined)
    throw new UsageError('--staged and --history cannot be combined');
  const source: ScanSource =
    opts.staged === true
      ? { kind: 'staged' }
      : opts.history !== undefined
        ? { kind: 'history', range: typeof opts.history === 'string' ? opts.history : undefined }
        : { kind: 'tree' };
  if (opts.json === true) targets.push({ format: 'json', output: undefined });
  const quiet = opts.quiet === true;
  if (targets.length === 0 && !quiet) targets.push({ format: 'text', output: undefined });
  if (targets.filter((t) => t.output === undefined).length > 1) {
    throw new UsageError('only one report can go to stdout', 'give the others an --output file');
  }
  const only =
    typeof opts.only === 'string'
      ? opts.only
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined;
  const baseline =
    opts.baseline === true ? join(path, DEFAULT_BASELINE) : (opts.baseline as string | undefined);

  const progress =
    !quiet && process.stderr.isTTY === true ? terminalProgress(process.stderr, 'scanning') : silentProgress;
  const report = await runCheck({
    path,
    source,
    ...(typeof opts.since === 'string' ? { since: opts.since } : {}),
    ...(only === undefined ? {} : { only }),
    ...(baseline === undefined ? {} : { baselineFile: baseline }),
    ...(typeof opts.suppressions === 'string' ? { suppressionsFile: opts.suppressions } : {}),
    ...(typeof opts.config === 'string' ? { configFile: opts.config } : {}),
    ...(failOn === undefined ? {} : { failOn: failOn as Severity }),
    showSecrets: opts.showSecrets === true,
    deps: {
      ...(typeof opts.dataDir === 'string' ? { dataDir: opts.dataDir } : {}),
      ...(opts.online === true ? { online: true } : {}),
      ...(opts.fixableOnly === true ? { fixableOnly: true } : {}),
    },
    progress,
  });

  for (const target of targets) {
    const reporter = getReporter(target.format);
    if (reporter === undefined) continue;
    const color = target.output === undefined && target.format === 'text' && useColor(process.stdout);
    writeOutput(target.output, reporter.render(report, { color }));
  }
  if (quiet && report.skipped.length > 0 && targets.every((t) => t.output !== undefined)) {
    // Even quiet, say that something was not read: silence must not look like a clean scan.
    process.stderr.write(
      `plumbline: ${report.skipped.length} file(s) skipped (binary, too large or unreadable)\n`,
    );
  }
  if (typeof opts.record === 'string') {
    const { recordCheck } = await import('./record.js');
    const id = await recordCheck(opts.record, report);
    if (!quiet) process.stderr.write(`plumbline: recorded as audit entry #${id} in ${opts.record}\n`);
  }
  return report.gate.passed ? EXIT.ok : EXIT.findings;
}
