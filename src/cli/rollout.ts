// Progressive delivery from the command line, against a running controller's API: `rollout status`, `promote`,
// `abort` and `retry` for an App's canary or blue-green rollout; `rollback` pins an App to an earlier revision
// (and with --revert pushes a commit so Git agrees); `unpin` returns it to Git.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { AppRolloutStatus } from '../server/controller-api.js';
import { type Api, apiClient } from './api.js';
import { writeOutput } from './output.js';

interface ClientOptions {
  server?: string;
  token?: string;
  json?: boolean;
}

const CLIENT_HELP = `
The running controller is found at --server, else $PLUMBLINE_SERVER, else http://127.0.0.1:7070; a token
comes from --token or $PLUMBLINE_TOKEN (from loopback, reading needs none; acting needs an operator token
when the controller requires tokens).`;

const EXIT_HELP =
  'Exit codes: 0 ok, 2 bad usage or an API refusal (e.g. 409: nothing to promote), 3 internal failure.';

export function registerRollout(program: Command): void {
  const rollout = program
    .command('rollout')
    .description("an App's canary or blue-green rollout: status, promote, abort, retry")
    .addHelpText(
      'after',
      `
An App with spec.strategy (canary or blueGreen) rolls out a new revision step by step; the controller
runs it in the background. A failed analysis or health check rolls back on its own and quarantines the
revision until a newer commit or \`plumbline rollout retry\`.

Examples:
  plumbline rollout status production web
  plumbline rollout promote production web          end a pause (pause: {}) or blue-green's wait
  plumbline rollout promote production web --full  skip the remaining steps
  plumbline rollout abort production web            all traffic back to the stable revision now
  plumbline rollout retry production web            start a rolled-back rollout again
${CLIENT_HELP}`,
    );

  client(
    rollout.command('status <env> <app>').description('the step, the weights and the analysis so far'),
    async (api, [env, app], opts) => {
      const status = (await api('GET', `${appPath(env, app)}/rollout`)) as AppRolloutStatus;
      return opts.json === true ? status : formatRolloutStatus(status);
    },
    'plumbline rollout status staging web\n  plumbline rollout status staging web --json',
  );

  client(
    rollout
      .command('promote <env> <app>')
      .description('end the current pause (or the scale-down delay); --full promotes now')
      .option('--full', 'skip every remaining step and promote now'),
    async (api, [env, app], opts) => {
      const full = (opts as ClientOptions & { full?: boolean }).full === true;
      const status = (await api(
        'POST',
        `${appPath(env, app)}/rollout/promote`,
        full ? { full } : {},
      )) as AppRolloutStatus;
      return opts.json === true ? status : `promoted ${env}/${app}\n${formatRolloutStatus(status)}`;
    },
    'plumbline rollout promote staging web\n  plumbline rollout promote staging web --full',
  );

  client(
    rollout.command('abort <env> <app>').description('roll back now: all traffic to the stable revision'),
    async (api, [env, app], opts) => {
      const status = (await api('POST', `${appPath(env, app)}/rollout/abort`, {})) as AppRolloutStatus;
      return opts.json === true ? status : `aborted ${env}/${app}\n${formatRolloutStatus(status)}`;
    },
    'plumbline rollout abort staging web',
  );

  client(
    rollout
      .command('retry <env> <app>')
      .description('lift the quarantine and start the rolled-back rollout again'),
    async (api, [env, app], opts) => {
      const status = (await api('POST', `${appPath(env, app)}/rollout/retry`, {})) as AppRolloutStatus;
      return opts.json === true ? status : `retrying ${env}/${app}\n${formatRolloutStatus(status)}`;
    },
    'plumbline rollout retry staging web',
  );

  client(
    program
      .command('rollback <env> <app>')
      .description('pin an App to an earlier revision and deploy it; auto-sync leaves it there')
      .option(
        '--to <revision>',
        'a commit (or a prefix of 4+ hex digits) deployed before; default: the previous one',
      )
      .option('--revert', 'also push a commit that brings Git back to that revision, then unpin')
      .option('--reason <text>', 'why, kept with the pin'),
    async (api, [env, app], opts) => {
      const o = opts as ClientOptions & { to?: string; revert?: boolean; reason?: string };
      if (o.to !== undefined && !/^[0-9a-fA-F]{4,64}$/.test(o.to)) {
        throw new UsageError(
          `--to: "${o.to}" is not a commit id`,
          'give a commit id or a prefix of at least 4 hex digits',
        );
      }
      const body = {
        ...(o.to === undefined ? {} : { to: o.to }),
        ...(o.revert === true ? { revert: true } : {}),
        ...(o.reason === undefined ? {} : { reason: o.reason }),
      };
      const status = (await api('POST', `${appPath(env, app)}/rollback`, body)) as AppRolloutStatus;
      if (opts.json === true) return status;
      const head =
        status.revert !== undefined
          ? `rolled ${env}/${app} back and pushed ${status.revert.commit.slice(0, 12)} to ${status.revert.branch}; it follows Git again`
          : `rolled ${env}/${app} back to ${status.pin?.revision.slice(0, 12) ?? status.liveRevision?.slice(0, 12)}; pinned until plumbline unpin ${env} ${app}`;
      return `${head}\n${formatRolloutStatus(status)}`;
    },
    'plumbline rollback production web\n  plumbline rollback production web --to 3f2a9c1 --reason "checkout errors"\n  plumbline rollback production web --revert',
    `A rollback deploys at once (no canary). Git keeps its revision: the status shows both, and auto-sync does
not move the App until \`plumbline unpin\` — or use --revert, which writes the pinned revision's App
document (and its code folder) back in a commit on the watched branch, pushes it, and unpins. Pushing to a
local repository whose branch is checked out needs: git config receive.denyCurrentBranch updateInstead.`,
  );

  client(
    program
      .command('unpin <env> <app>')
      .description("return a pinned App to Git's revision (the next sync deploys it)"),
    async (api, [env, app], opts) => {
      const status = (await api('POST', `${appPath(env, app)}/unpin`, {})) as AppRolloutStatus;
      return opts.json === true ? status : `unpinned ${env}/${app}\n${formatRolloutStatus(status)}`;
    },
    'plumbline unpin production web',
  );
}

/** An App's rollout, pin and quarantine as `plumbline rollout status` prints them. */
export function formatRolloutStatus(status: AppRolloutStatus): string {
  const short = (revision: string | null | undefined): string => (revision ?? '-').slice(0, 12);
  const lines = [
    `${status.environment}/${status.app}: ${status.phase}  ${status.message}`,
    `  git        ${short(status.desiredRevision)}    live ${short(status.liveRevision)}`,
  ];
  const r = status.rollout;
  if (r === null) {
    lines.push('  rollout    none yet');
  } else {
    lines.push(
      `  rollout    ${r.strategy === 'canary' ? 'canary' : 'blue-green'} of ${r.label}  ${r.phase}${status.active ? '' : ' (finished)'}  attempt ${r.attempt}, started ${r.startedAt}`,
      `  step       ${r.step.index}/${r.step.total}  ${r.step.name}`,
      `  weights    ${
        Object.entries(r.weights)
          .map(([revision, weight]) => `${revision} ${weight}%`)
          .join('  ') || '-'
      }`,
    );
    if (r.preview !== undefined) lines.push(`  preview    port ${r.preview.port} → ${r.preview.revision}`);
    if (r.pause !== undefined) {
      lines.push(
        `  paused     ${r.pause.reason}${r.pause.until === undefined ? ' (until promoted)' : ` until ${r.pause.until}`}`,
      );
    }
    for (const a of r.analysis) {
      lines.push(`  analysis   step ${a.step} ${a.templates.join(', ')}: ${a.phase} — ${a.message}`);
    }
    if (r.failure !== undefined) lines.push(`  failure    ${r.failure.message}`);
    lines.push(`  message    ${r.message}`);
  }
  if (status.pin !== null) {
    lines.push(
      `  pinned     to ${short(status.pin.revision)} by ${status.pin.pinnedBy} at ${status.pin.createdAt} (${status.pin.reason})`,
    );
  }
  for (const q of status.quarantine) lines.push(`  quarantine ${short(q.revision)}: ${q.reason}`);
  return lines.join('\n');
}

function appPath(env: string | undefined, app: string | undefined): string {
  return `/api/v1/environments/${encodeURIComponent(env ?? '')}/apps/${encodeURIComponent(app ?? '')}`;
}

/** Adds --server, --token and --json, the help, and the API call with its errors, to a command. */
function client(
  command: Command,
  run: (api: Api, args: string[], opts: ClientOptions) => Promise<unknown>,
  examples: string,
  more = '',
): void {
  command
    .option('--server <url>', 'the controller API')
    .option('--token <token>', 'an API token')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `${more === '' ? '' : `\n${more}\n`}${CLIENT_HELP}\n\nExamples:\n  ${examples}\n\n${EXIT_HELP}`,
    );
  command.action(async (...received: unknown[]) => {
    const opts = received[received.length - 2] as ClientOptions;
    const args = received.slice(0, -2).filter((a): a is string => typeof a === 'string');
    // A rollback waits for the deploy's health checks, and --revert for a clone and a push.
    const api = apiClient({ server: opts.server, token: opts.token, timeoutMs: 180_000 });
    const out = await run(api, args, opts);
    writeOutput(undefined, typeof out === 'string' ? out : JSON.stringify(out, null, 2));
  });
}
