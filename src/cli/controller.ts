// The controller's commands: `up` runs it; `status`, `sync`, `diff`, `history` and `logs` talk to a running one
// over its API; `token create` writes an API token straight into the store (how the first admin gets one).
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { type Api, apiClient } from './api.js';
import { writeOutput } from './output.js';

interface ClientOptions {
  server?: string;
  token?: string;
  json?: boolean;
}

const CLIENT_HELP = `
The running controller is found at --server, else $PLUMBLINE_SERVER, else http://127.0.0.1:7070; a token
comes from --token or $PLUMBLINE_TOKEN (from loopback, reading needs none).`;

export function registerController(program: Command): void {
  program
    .command('up')
    .description('run the GitOps controller: keep what runs on this host equal to what Git says')
    .requiredOption('--repo <path-or-url>', 'the Git repository to watch (a URL, or a local path)')
    .option('--branch <branch>', 'the branch to deploy', 'main')
    .option('--data-dir <dir>', 'state, releases, logs, the supervisor and router sockets', '.plumbline')
    .option(
      '--listen <host:port>',
      'the API address (loopback only unless you say otherwise)',
      '127.0.0.1:7070',
    )
    .option('--webhook-secret-env <name>', 'the environment variable holding the Git webhook secret')
    .option(
      '--age-identity-file <file>',
      "the controller's age identity, to decrypt SOPS secrets (never in the repository)",
    )
    .option('--age-identity-env <name>', 'the environment variable holding the age identity instead')
    .option(
      '--audit-repo <path>',
      'also publish signed audit checkpoints to refs/plumbline/checkpoints in this Git repository',
    )
    .addHelpText(
      'after',
      `
The repository's plumbline.yaml holds Environment documents; each names a folder of App documents. Apps run
as processes owned by a supervisor, behind a router on each App's port; both outlive the controller, which
re-adopts them when it starts again. Stop with Ctrl-C (apps keep running).

Examples:
  plumbline up --repo ./deploy-repo
  plumbline up --repo https://git.example.com/org/deploy.git --branch prod --webhook-secret-env GIT_WEBHOOK_SECRET
  plumbline up --repo ./deploy-repo --age-identity-file /etc/plumbline/age.key
  PLUMBLINE_AGE_KEY="$(cat key.txt)" plumbline up --repo ./deploy-repo --age-identity-env PLUMBLINE_AGE_KEY

Secrets: Apps reference SOPS files (decrypted with the age identity) or Vault KV v2 secrets (VAULT_ADDR with
VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID for AppRole; VAULT_NAMESPACE). Values stay in memory and in
the instances' environment.

Audit: every decision goes into the ledger in the data directory (plumbline audit log, plumbline audit verify);
signed checkpoints are appended to DATA_DIR/audit-checkpoints and, with --audit-repo, to a Git ref.

Exit codes: 0 stopped cleanly, 2 bad usage or configuration, 3 internal failure.`,
    )
    .action(
      async (opts: {
        repo: string;
        branch: string;
        dataDir: string;
        listen: string;
        webhookSecretEnv?: string;
        ageIdentityFile?: string;
        ageIdentityEnv?: string;
        auditRepo?: string;
      }) => {
        const match = /^(.+):(\d{1,5})$/.exec(opts.listen);
        if (match === null)
          throw new UsageError(`--listen: "${opts.listen}" is not host:port`, 'e.g. --listen 127.0.0.1:7070');
        const { createLogger } = await import('../server/logger.js');
        const { up } = await import('../gitops/up.js');
        const logger = createLogger({ pretty: process.stdout.isTTY === true });
        const secret = opts.webhookSecretEnv === undefined ? undefined : process.env[opts.webhookSecretEnv];
        if (opts.webhookSecretEnv !== undefined && (secret === undefined || secret === '')) {
          throw new UsageError(`--webhook-secret-env: $${opts.webhookSecretEnv} is empty`);
        }
        const running = await up({
          repo: opts.repo,
          branch: opts.branch,
          dataDir: opts.dataDir,
          host: match[1] as string,
          port: Number(match[2]),
          logger,
          ...(secret === undefined ? {} : { webhookSecret: secret }),
          ...(opts.ageIdentityFile === undefined ? {} : { ageIdentityFile: opts.ageIdentityFile }),
          ...(opts.ageIdentityEnv === undefined ? {} : { ageIdentityEnv: opts.ageIdentityEnv }),
          ...(opts.auditRepo === undefined ? {} : { auditRepo: opts.auditRepo }),
        });
        logger.info({ api: running.url }, `controller API at ${running.url}`);
        await new Promise<void>((resolveStop) => {
          const stop = (): void => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolveStop();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        await running.stop();
      },
    );

  client(
    program,
    'status [env]',
    'environments and apps: desired and live revision, phase, why',
    async (api, args, opts) => {
      const env = args[0];
      if (env === undefined) {
        const list = (await api('GET', '/api/v1/environments')) as {
          name: string;
          phase: string;
          liveRevision: string | null;
          conditions: { message: string }[];
        }[];
        return opts.json === true
          ? list
          : list
              .map(
                (e) =>
                  `${e.name.padEnd(16)} ${e.phase.padEnd(12)} ${(e.liveRevision ?? '-').slice(0, 12)}  ${e.conditions[0]?.message ?? ''}`,
              )
              .join('\n');
      }
      const environment = (await api('GET', `/api/v1/environments/${encodeURIComponent(env)}`)) as {
        name: string;
        phase: string;
        conditions: { message: string }[];
      };
      const apps = (await api('GET', `/api/v1/environments/${encodeURIComponent(env)}/apps`)) as {
        name: string;
        phase: string;
        liveRevision: string | null;
        message: string;
      }[];
      if (opts.json === true) return { environment, apps };
      return [
        `${environment.name}: ${environment.phase}  ${environment.conditions[0]?.message ?? ''}`,
        ...apps.map(
          (a) =>
            `  ${a.name.padEnd(16)} ${a.phase.padEnd(12)} ${(a.liveRevision ?? '-').slice(0, 12)}  ${a.message}`,
        ),
      ].join('\n');
    },
    'plumbline status\n  plumbline status staging --json',
  );

  client(
    program,
    'sync <env>',
    'sync an environment now',
    async (api, args, opts) => {
      const result = await api(
        'POST',
        `/api/v1/environments/${encodeURIComponent(args[0] as string)}/sync`,
        {},
      );
      return opts.json === true ? result : `sync of ${args[0]} started`;
    },
    'plumbline sync staging',
  );

  client(
    program,
    'diff <env>',
    'what a sync would change',
    async (api, args, opts) => {
      const plan = (await api(
        'GET',
        `/api/v1/environments/${encodeURIComponent(args[0] as string)}/diff`,
      )) as { steps: { action: string; app: string; changes: string[] }[] };
      if (opts.json === true) return plan;
      const { formatPlan } = await import('../gitops/plan.js');
      return formatPlan(plan as unknown as Parameters<typeof formatPlan>[0]);
    },
    'plumbline diff staging',
  );

  client(
    program,
    'history <env>',
    'the last syncs of an environment',
    async (api, args, opts) => {
      const list = (await api(
        'GET',
        `/api/v1/environments/${encodeURIComponent(args[0] as string)}/history?limit=100`,
      )) as { startedAt: string; revision: string; result: string; message: string }[];
      return opts.json === true
        ? list
        : list
            .map((s) => `${s.startedAt}  ${s.revision.slice(0, 12)}  ${s.result.padEnd(9)}  ${s.message}`)
            .join('\n');
    },
    'plumbline history staging',
  );

  client(
    program,
    'logs <env> <app>',
    "an app's recent output",
    async (api, args, opts) => {
      const lines = (await api(
        'GET',
        `/api/v1/environments/${encodeURIComponent(args[0] as string)}/apps/${encodeURIComponent(args[1] as string)}/logs?tail=200`,
      )) as { instance: string; line: string }[];
      return opts.json === true ? lines : lines.map((l) => `${l.instance}  ${l.line}`).join('\n');
    },
    'plumbline logs staging web',
  );

  const token = program.command('token').description('API tokens');
  token
    .command('create')
    .description('create an API token (printed once; stored hashed)')
    .requiredOption('--role <role>', 'viewer, operator or admin')
    .option('--name <name>', 'who or what it is for', 'cli')
    .option('--data-dir <dir>', "the controller's data directory", '.plumbline')
    .addHelpText(
      'after',
      '\nExamples:\n  export PLUMBLINE_TOKEN=$(plumbline token create --role operator --name ci)',
    )
    .action(async (opts: { role: string; name: string; dataDir: string }) => {
      if (!['viewer', 'operator', 'admin'].includes(opts.role)) {
        throw new UsageError(`--role: unknown role "${opts.role}"`, 'use viewer, operator or admin');
      }
      const { openControllerStore } = await import('../store/controller-store.js');
      const { createToken } = await import('../server/auth.js');
      const store = await openControllerStore({ dataDir: opts.dataDir });
      try {
        const created = await createToken(store, {
          name: opts.name,
          role: opts.role as 'viewer' | 'operator' | 'admin',
        });
        writeOutput(undefined, created.token);
      } finally {
        await store.close();
      }
    });
}

function client(
  program: Command,
  usage: string,
  description: string,
  run: (api: Api, args: string[], opts: ClientOptions) => Promise<unknown>,
  examples: string,
): void {
  const command = program
    .command(usage)
    .description(description)
    .option('--server <url>', 'the controller API')
    .option('--token <token>', 'an API token')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `${CLIENT_HELP}\n\nExamples:\n  ${examples}\n\nExit codes: 0 ok, 2 bad usage or an API refusal, 3 internal failure.`,
    );
  command.action(async (...received: unknown[]) => {
    const opts = received[received.length - 2] as ClientOptions;
    const args = received.slice(0, -2).filter((a): a is string => typeof a === 'string');
    const api = apiClient({ server: opts.server, token: opts.token });
    const out = await run(api, args, opts);
    writeOutput(undefined, typeof out === 'string' ? out : JSON.stringify(out, null, 2));
  });
}
