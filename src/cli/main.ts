// The `plumbline` command: one file per subcommand; this file wires them and maps errors to exit codes.
import { Command, CommanderError } from 'commander';
import { EXIT, exitCodeFor, PlumblineError } from '../errors.js';
import { VERSION } from '../version.js';
import { registerAudit } from './audit.js';
import { registerBaseline } from './baseline.js';
import { EXIT_CODES_HELP, registerCheck } from './check.js';
import { registerController } from './controller.js';
import { registerDb } from './db.js';
import { registerHook } from './hook.js';
import { registerPolicy } from './policy.js';
import { registerRollout } from './rollout.js';
import { registerRules } from './rules.js';
import { registerSbom } from './sbom.js';
import { registerSchema } from './schema.js';
import { registerSecrets } from './secrets.js';

export function buildProgram(): Command {
  const program = new Command('plumbline')
    .description('One chain of evidence from pull request to production.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  plumbline check                 scan this folder for secrets and gate on findings
  plumbline check --history       scan every commit
  plumbline hook install          block commits that add secrets
  plumbline baseline              accept today's findings; gate only on new ones
  plumbline db import PyPI.zip    load OSV advisories for offline dependency scanning
  plumbline sbom --format spdx    a bill of materials from the lockfiles
  plumbline up --repo ./deploy    run the GitOps controller on this host
  plumbline policy test policies  run the policies' test cases (CEL, as in Kubernetes)
  plumbline secrets edit s.yaml   edit a SOPS file encrypted for age recipients
  plumbline audit verify          check the audit ledger was not rewritten
${EXIT_CODES_HELP}`,
    );
  registerCheck(program);
  registerBaseline(program);
  registerSchema(program);
  registerHook(program);
  registerRules(program);
  registerDb(program);
  registerSbom(program);
  registerController(program);
  registerRollout(program);
  registerPolicy(program);
  registerSecrets(program);
  registerAudit(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and version are successes; commander already printed the rest.
    if (
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.code === 'commander.help'
    ) {
      return EXIT.ok;
    }
    return EXIT.usage;
  }
  if (error instanceof PlumblineError) {
    process.stderr.write(`plumbline: ${error.message}\n`);
    if (error.hint !== undefined) process.stderr.write(`  hint: ${error.hint}\n`);
    return exitCodeFor(error);
  }
  const err = error as Error;
  process.stderr.write(
    `plumbline: internal error: ${err?.stack ?? String(error)}\nThis is a bug; please report it.\n`,
  );
  return EXIT.internal;
}
