// `plumbline policy test DIR` (the test cases beside the policies) and `plumbline policy eval` (one policy set
// against some documents). The engine loads on first use.
import { readFileSync, statSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { InputError, UsageError } from '../errors.js';
import type { PolicyResource } from '../policy/engine.js';
import { writeOutput } from './output.js';

export function registerPolicy(program: Command): void {
  const policy = program
    .command('policy')
    .description('policy as code: test CEL policies and evaluate them against documents');
  policy
    .command('test')
    .description('run the test cases beside the policies (plumbline-test.yaml and kyverno-test.yaml)')
    .argument(
      '<dir>',
      'folder searched for plumbline-test.yaml and kyverno-test.yaml files (or one test file)',
    )
    .option('--json', 'print the results as JSON')
    .addHelpText(
      'after',
      `
Examples:
  plumbline policy test policies
  plumbline policy test policies/no-latest-tag/plumbline-test.yaml --json

Exit codes: 0 every case passed, 1 a case failed, 2 a malformed test or policy (the message names file and line).`,
    )
    .action(async (dir: string, opts: { json?: boolean }) => {
      const { runPolicyTests } = await import('../policy/testing.js');
      const run = runPolicyTests(dir);
      if (opts.json === true) {
        writeOutput(undefined, JSON.stringify(run, null, 2));
      } else {
        const lines: string[] = [];
        let file = '';
        for (const r of run.results) {
          if (r.file !== file) {
            file = r.file;
            lines.push(file);
          }
          if (r.status === 'unsupported') {
            lines.push(`  - ${r.policy === '' ? '' : `${r.policy} ${r.resource}: `}unsupported: ${r.detail}`);
            continue;
          }
          const mark = r.status === 'passed' ? '✓' : '✗';
          const got =
            r.status === 'passed' ? r.expected : `expected ${r.expected}, got ${r.actual ?? 'nothing'}`;
          lines.push(
            `  ${mark} ${r.policy}  ${r.resource} → ${got}${r.status === 'failed' && r.detail !== '' ? `: ${r.detail}` : ''}`,
          );
        }
        const unsupported = run.unsupported > 0 ? `, ${run.unsupported} unsupported` : '';
        lines.push(
          `${run.files.length} test files, ${run.results.length} cases: ${run.passed} passed, ${run.failed} failed${unsupported}`,
        );
        writeOutput(undefined, lines.join('\n'));
      }
      process.exitCode = run.failed > 0 ? 1 : 0;
    });
  policy
    .command('eval')
    .description('evaluate policies against documents and print the verdicts')
    .requiredOption(
      '--policy <path>',
      'a policy file, or a folder of them (parameter documents may sit beside)',
    )
    .requiredOption('--resource <file>', 'a YAML file with the documents to judge')
    .option('--old <file>', 'the previous versions (oldObject): the operation becomes UPDATE')
    .option('--params <file>', 'a YAML file with parameter documents')
    .option('--operation <op>', 'CREATE, UPDATE, DELETE or CONNECT')
    .option('--json', 'print the verdicts as JSON')
    .addHelpText(
      'after',
      `
Examples:
  plumbline policy eval --policy policies/no-latest-tag --resource deploy/prod/web.yaml
  plumbline policy eval --policy vap.yaml --resource pod.yaml --json

Exit codes: 0 no Deny violation, 1 a Deny violation (or an evaluation error), 2 bad input.`,
    )
    .action(
      async (opts: {
        policy: string;
        resource: string;
        old?: string;
        params?: string;
        operation?: string;
        json?: boolean;
      }) => {
        const code = await evalCommand(opts);
        process.exitCode = code;
      },
    );
}

async function evalCommand(opts: {
  policy: string;
  resource: string;
  old?: string;
  params?: string;
  operation?: string;
  json?: boolean;
}): Promise<number> {
  const operations = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] as const;
  const operation = opts.operation?.toUpperCase();
  if (operation !== undefined && !(operations as readonly string[]).includes(operation)) {
    throw new UsageError(
      `--operation: unknown operation "${opts.operation}"`,
      `use one of ${operations.join(', ')}`,
    );
  }
  const { evaluate, loadPolicies, policiesFromSources, describeResource, policyLabel, summarize } =
    await import('../policy/index.js');
  const { readYamlStrict } = await import('../policy/yaml.js');
  const { identify } = await import('../policy/match.js');
  const cwd = process.cwd();
  const shown = (p: string): string => relative(cwd, resolve(p)).split(sep).join('/') || p;
  const readText = (p: string): string => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      throw new InputError(`${p} cannot be read`, 'give a YAML file');
    }
  };

  let isDir: boolean;
  try {
    isDir = statSync(opts.policy).isDirectory();
  } catch {
    throw new InputError(`${opts.policy} does not exist`, 'give a policy file or a folder of policies');
  }
  const extra = [opts.resource, ...(opts.params === undefined ? [] : [opts.params])].map((p) => ({
    file: shown(p),
    text: readText(p),
  }));
  const policies = isDir
    ? (() => {
        const fromDir = loadPolicies(resolve(opts.policy));
        // Parameters may also come from --params or the resource file.
        return extra.length === 0
          ? fromDir
          : { ...fromDir, params: [...fromDir.params, ...policiesFromSources(extra).params] };
      })()
    : policiesFromSources([{ file: shown(opts.policy), text: readText(opts.policy) }, ...extra]);
  if (policies.instances.length === 0) {
    throw new InputError(
      `no policies in ${opts.policy}`,
      'give a file with a Policy, ValidatingAdmissionPolicy (and binding) or ValidatingPolicy',
    );
  }

  const olds = new Map<string, unknown>();
  if (opts.old !== undefined) {
    for (const doc of readYamlStrict(readText(opts.old), shown(opts.old))) {
      const id = identify(doc.value);
      if (id !== undefined) olds.set(`${id.kind}/${id.namespace ?? ''}/${id.name}`, doc.value);
    }
  }
  const resources: PolicyResource[] = readYamlStrict(readText(opts.resource), shown(opts.resource)).flatMap(
    (doc) => {
      const id = identify(doc.value);
      if (id === undefined) return [];
      const oldObject = olds.get(`${id.kind}/${id.namespace ?? ''}/${id.name}`);
      return [
        {
          doc: doc.value,
          file: shown(opts.resource),
          line: doc.line,
          ...(oldObject === undefined ? {} : { oldObject }),
        },
      ];
    },
  );
  const { withNamespaces } = await import('../policy/testing.js');
  withNamespaces(resources, undefined, shown(opts.resource));
  const verdicts = evaluate(policies, resources, {
    includeSkips: true,
    ...(operation === undefined ? {} : { operation: operation as (typeof operations)[number] }),
  });
  const { denied } = summarize(verdicts);
  if (opts.json === true) {
    writeOutput(undefined, JSON.stringify({ verdicts, notes: policies.notes }, null, 2));
  } else {
    const lines = verdicts.map((v) => {
      const where = v.validation === undefined ? '' : ` validation ${v.validation}`;
      const text = v.message === '' ? '' : `: ${v.message}`;
      return `${v.result.padEnd(5)} ${v.file}:${v.line} ${describeResource(v.resource)} — ${policyLabel(v)}${where} [${v.actions.join(', ')}]${text}`;
    });
    for (const note of policies.notes) lines.push(`note: ${note}`);
    lines.push(`${verdicts.length} verdicts, ${denied.length} denying`);
    writeOutput(undefined, lines.join('\n'));
  }
  return denied.length > 0 ? 1 : 0;
}
