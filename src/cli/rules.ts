// `plumbline rules`: list the secret rules, or export their patterns for other tools (ripgrep).
import type { Command } from 'commander';
import { resolveRules } from '../analyzers/secrets/index.js';
import { loadConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import { writeOutput } from './output.js';

export function registerRules(program: Command): void {
  const rules = program.command('rules').description('list or export the secret rules');
  rules
    .command('list')
    .description("list the secret rules in force (built-in, minus disabled, plus the Check's own)")
    .option('--config <file>', 'configuration file', 'plumbline.yaml')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  plumbline rules list\n  plumbline rules list --json | jq length')
    .action(async (opts: { config: string; json?: boolean }) => {
      const list = resolveRules((await loadConfig(opts.config)).check, opts.config);
      if (opts.json === true) {
        writeOutput(undefined, JSON.stringify(list, null, 2));
        return;
      }
      const width = Math.max(...list.map((r) => r.id.length));
      const lines = list.map((r) => `${r.id.padEnd(width)}  ${r.severity.padEnd(8)}  ${r.description}`);
      writeOutput(undefined, `${lines.join('\n')}\n${list.length} rules`);
    });
  rules
    .command('export')
    .description('export rule patterns for another tool')
    .requiredOption('--format <format>', 'ripgrep (one pattern per line, for rg -f) or json')
    .option('--config <file>', 'configuration file', 'plumbline.yaml')
    .option('--output <file>', 'write to a file instead of stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  plumbline rules export --format ripgrep > patterns.txt && rg -f patterns.txt src/',
    )
    .action(async (opts: { format: string; config: string; output?: string }) => {
      const list = resolveRules((await loadConfig(opts.config)).check, opts.config);
      if (opts.format === 'ripgrep') {
        writeOutput(
          opts.output,
          list.map((r) => `${r.caseInsensitive === true ? '(?i)' : ''}${r.pattern}`).join('\n'),
        );
      } else if (opts.format === 'json') {
        writeOutput(
          opts.output,
          JSON.stringify(
            list.map(({ examples: _, ...r }) => r),
            null,
            2,
          ),
        );
      } else {
        throw new UsageError(`--format: unknown export format "${opts.format}"`, 'use ripgrep or json');
      }
    });
}
