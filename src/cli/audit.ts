// `plumbline audit`: the tamper-evident ledger for auditors. Every command reads the store directly from
// --data-dir (a copy works: no controller needed); `verify` and `verify-proof` exit 1 when something does not
// check out, 2 on bad input.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InputError, UsageError } from '../errors.js';
import { apiClient } from './api.js';
import { writeOutput } from './output.js';

const DATA_DIR_HELP = 'the controller data directory holding controller.db (a copy works)';

const EXIT_HELP = `
Exit codes: 0 ok, 1 verification failed (the message names what), 2 bad usage or input, 3 internal failure.`;

interface LedgerOptions {
  dataDir: string;
}

interface FilterOptions extends LedgerOptions {
  env?: string;
  app?: string;
  actor?: string;
  action?: string;
  since?: string;
}

/** Control characters (a hostile commit author's terminal escapes) shown as escapes, never sent raw. */
function safe(text: string): string {
  let out = '';
  for (const c of text) {
    const code = c.charCodeAt(0);
    const control = code < 0x20 || (code >= 0x7f && code <= 0x9f);
    out += control ? `\\u${code.toString(16).padStart(4, '0')}` : c;
  }
  return out;
}

function parseId(text: string, what: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(
      `${what}: "${text}" is not an entry id`,
      'entry ids are the numbers `plumbline audit log` shows (#42)',
    );
  }
  return Number(text);
}

async function parseSince(text: string | undefined, now: Date): Promise<string | undefined> {
  if (text === undefined) return undefined;
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const date = new Date(text);
    if (Number.isNaN(date.getTime()))
      throw new UsageError(`--since: "${text}" is not a date`, 'e.g. 2026-01-31 or 2026-01-31T12:00:00Z');
    return date.toISOString();
  }
  const { parseDuration } = await import('../gitops/duration.js');
  const duration = parseDuration(text);
  if (!duration.ok) {
    throw new UsageError(`--since: ${duration.message}`, 'a date (2026-01-31) or how long ago (24h, 7d)');
  }
  return new Date(now.getTime() - duration.ms).toISOString();
}

async function filterOf(opts: FilterOptions): Promise<import('../audit/store.js').EntryFilter> {
  const since = await parseSince(opts.since, new Date());
  return {
    ...(opts.env === undefined ? {} : { environment: opts.env }),
    ...(opts.app === undefined ? {} : { app: opts.app }),
    ...(opts.actor === undefined ? {} : { actor: opts.actor }),
    ...(opts.action === undefined ? {} : { action: opts.action }),
    ...(since === undefined ? {} : { since }),
  };
}

interface ServerOptions {
  server?: string;
  token?: string;
}

/** What `log` and `prove` need of a ledger: the store's, or the running controller's API. */
interface LedgerReader {
  entries(
    filter: import('../audit/store.js').EntryFilter,
    page: { limit: number },
  ): Promise<import('../audit/store.js').EntriesResult>;
  prove(id: number): Promise<unknown>;
}

/** The store in --data-dir when given (a copy works, no controller needed); otherwise the controller's API. */
async function withLedgerOrApi<T>(
  opts: Partial<LedgerOptions> & ServerOptions,
  fn: (ledger: LedgerReader) => Promise<T>,
): Promise<T> {
  if (opts.dataDir !== undefined) {
    const { proveEntry } = await import('../audit/bundle.js');
    return withLedger(opts.dataDir, (ledger) =>
      fn({ entries: (filter, page) => ledger.entries(filter, page), prove: (id) => proveEntry(ledger, id) }),
    );
  }
  const api = apiClient({ server: opts.server, token: opts.token });
  const get = (path: string): Promise<unknown> => api('GET', path);
  return fn({
    entries: async (filter, page) => {
      const query = new URLSearchParams({ limit: String(page.limit) });
      for (const [name, value] of Object.entries(filter))
        if (value !== undefined) query.set(name, String(value));
      const result = (await get(
        `/api/v1/audit/entries?${query}`,
      )) as import('../audit/store.js').EntriesResult & {
        size?: number;
      };
      const { size: _size, ...rest } = result;
      return rest;
    },
    prove: (id) => get(`/api/v1/audit/entries/${id}/proof`),
  });
}

async function withLedger<T>(
  dataDir: string,
  fn: (ledger: import('../audit/store.js').AuditLedger) => Promise<T>,
): Promise<T> {
  const { openAuditLedger } = await import('../audit/store.js');
  const ledger = await openAuditLedger({ dataDir, create: false, synchronous: 'NORMAL' });
  try {
    return await fn(ledger);
  } finally {
    await ledger.close();
  }
}

/** The key checkpoints must be signed by: --key, else the data directory's public key (or its private key). */
async function trustedKey(
  key: string | undefined,
  dataDir: string,
  keyFile?: string,
): Promise<import('../audit/note.js').NoteVerifier> {
  const { keyLocation, loadVerifier, loadSigner, parseVerifierKey } = await import('../audit/note.js');
  const { existsSync } = await import('node:fs');
  if (key !== undefined) return loadVerifier(key);
  const location = keyLocation(dataDir, keyFile);
  if (existsSync(location.publicKey)) return loadVerifier(location.publicKey);
  if (existsSync(location.privateKey)) return parseVerifierKey(loadSigner(location.privateKey).verifierKey);
  throw new InputError(
    `no key to check signatures against: ${location.publicKey} does not exist`,
    'pass --key with the verifier key you trust (from `plumbline audit key` on the controller)',
  );
}

function entryLine(entry: import('../audit/entry.js').AuditEntry): string {
  const s = entry.subject;
  const where = [s.environment, s.app].filter((v) => v !== undefined).join('/');
  const at = s.revision ?? s.commit;
  const subject = `${where}${at === undefined ? '' : `@${at.slice(0, 12)}`}`;
  const head = [
    `#${entry.id}`.padEnd(7),
    entry.at,
    entry.action.padEnd(18),
    subject === '' ? '-' : subject,
    `by ${entry.actor.id} (${entry.actor.kind})`,
  ].join('  ');
  const lines = [safe(head)];
  if (entry.reason !== undefined) lines.push(`        reason: ${safe(entry.reason)}`);
  if (entry.evidence.length > 0) {
    lines.push(
      `        evidence: ${safe(entry.evidence.map((e) => `${e.kind} ${e.digest.slice(0, 19)}…`).join(', '))}`,
    );
  }
  return lines.join('\n');
}

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  // A spreadsheet runs a cell that starts with = + - @ as a formula; the JSONL export keeps values exact.
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function registerAudit(program: Command): void {
  const audit = program
    .command('audit')
    .description('the tamper-evident audit ledger: history, verification, proofs, export')
    .addHelpText(
      'after',
      `
Every decision of the controller is an entry in an append-only Merkle log (RFC 6962) with signed checkpoints
(C2SP signed notes, Ed25519). These commands read the store in --data-dir directly: an auditor can work on a
copy of the data directory, with the public key from \`plumbline audit key\`.

Examples:
  plumbline audit log --env prod --since 7d
  plumbline audit verify --against checkpoints.txt --key "$(cat audit-key.pub)"
  plumbline audit prove 42 --output entry-42.proof.json
  plumbline audit verify-proof entry-42.proof.json --key audit-key.pub
  plumbline audit export --format csv --output sample.csv
${EXIT_HELP}`,
    );

  audit
    .command('log')
    .description('the history, newest first')
    .option('--data-dir <dir>', `${DATA_DIR_HELP}; without it, the running controller's API is asked`)
    .option('--server <url>', 'the controller API (default $PLUMBLINE_SERVER or http://127.0.0.1:7070)')
    .option('--token <token>', 'an API token with the viewer role (default $PLUMBLINE_TOKEN)')
    .option('--env <name>', 'only this environment')
    .option('--app <name>', 'only this app')
    .option('--actor <id>', 'only this actor (exactly as shown after "by")')
    .option('--action <name>', 'only this action (sync.succeeded, approval.granted, …)')
    .option('--since <when>', 'a date (2026-01-31) or how long ago (24h, 7d)')
    .option('--limit <n>', 'at most this many entries', '50')
    .option('--json', 'print JSON: { entries, next }')
    .addHelpText(
      'after',
      `
Examples:
  plumbline audit log                                   ask the running controller
  plumbline audit log --data-dir ./copy-of-plumbline     read a copy of the data directory, no controller
  plumbline audit log --env prod --app web --since 24h
  plumbline audit log --actor "Ada Lovelace <ada@example.com>" --json
${EXIT_HELP}`,
    )
    .action(async (opts: FilterOptions & ServerOptions & { limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new UsageError(`--limit: "${opts.limit}" is not a number from 1 to 1000`);
      const filter = await filterOf(opts);
      await withLedgerOrApi(opts, async (ledger) => {
        const page = await ledger.entries(filter, { limit });
        if (opts.json === true) {
          writeOutput(undefined, JSON.stringify(page, null, 2));
          return;
        }
        if (page.entries.length === 0) {
          writeOutput(undefined, `no entries${Object.keys(filter).length > 0 ? ' match' : ' yet'}`);
          return;
        }
        const more =
          page.next === undefined
            ? ''
            : `\n(more: --limit ${Math.min(limit * 2, 1000)}, or narrow with --since/--env/--app)`;
        writeOutput(undefined, `${page.entries.map(entryLine).join('\n')}${more}`);
      });
    });

  audit
    .command('verify')
    .description(
      'recompute every leaf and the tree; check every checkpoint and the store against published ones',
    )
    .option('--data-dir <dir>', DATA_DIR_HELP, '.plumbline')
    .option(
      '--against <file-or-ref>',
      'checkpoints published outside the store: a file, or a Git ref (refs/…)',
    )
    .option('--repo <dir>', 'the Git repository holding the --against ref', '.')
    .option('--key <key-or-file>', 'the verifier key to trust (default: DATA_DIR/audit-key.pub)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Checks that every entry's canonical bytes hash to its leaf and say what its columns say, that the stored
tree is the tree of those leaves, that every checkpoint is signed by the key and matches the entries, that
successive checkpoints are consistent, and that the store agrees with every checkpoint given by --against.
On failure it names the first entry that does not match.

Examples:
  plumbline audit verify
  plumbline audit verify --against /mnt/offsite/checkpoints.txt
  plumbline audit verify --against refs/plumbline/checkpoints --repo ./deploy-repo --key "$(cat pinned.pub)"
${EXIT_HELP}`,
    )
    .action(
      async (opts: LedgerOptions & { against?: string; repo: string; key?: string; json?: boolean }) => {
        const { verifyLedger, loadExternalCheckpoints } = await import('../audit/verify.js');
        await withLedger(opts.dataDir, async (ledger) => {
          const verifier = await trustedKey(opts.key, opts.dataDir);
          const external =
            opts.against === undefined ? [] : await loadExternalCheckpoints(opts.against, opts.repo);
          const tty = process.stderr.isTTY === true && opts.json !== true;
          const started = Date.now();
          const report = await verifyLedger({
            ledger,
            verifier,
            external,
            onProgress: (done, total) => {
              if (tty) process.stderr.write(`\r\x1b[2Kverifying ${done}/${total} entries`);
            },
          });
          if (tty) process.stderr.write('\r\x1b[2K');
          const seconds = (Date.now() - started) / 1000;
          if (opts.json === true) {
            writeOutput(undefined, JSON.stringify({ ...report, seconds }, null, 2));
          } else if (report.ok) {
            writeOutput(
              undefined,
              [
                `audit ledger verified: ${report.entries} entries, root ${report.root} (${seconds.toFixed(1)} s)`,
                `  ${report.checkpoints} stored checkpoint(s) signed by ${report.key}, each consistent with the next`,
                ...(report.external > 0
                  ? [
                      `  ${report.external} external checkpoint(s) from ${opts.against}: the store agrees with each`,
                    ]
                  : []),
              ].join('\n'),
            );
          } else {
            const first = report.problems[0];
            const lines = [
              `audit ledger verification FAILED: ${safe(first?.message ?? 'see below')}`,
              ...(report.firstBadEntry === undefined
                ? []
                : [`  first entry that does not match: ${report.firstBadEntry}`]),
              `  ${report.problemCount} problem(s)${report.problemCount > report.problems.length ? ` (the first ${report.problems.length} shown)` : ''}:`,
              ...report.problems.map((p) => `  - [${p.kind}] ${safe(p.message)}`),
            ];
            process.stderr.write(`${lines.join('\n')}\n`);
          }
          if (!report.ok) process.exitCode = 1;
        });
      },
    );

  audit
    .command('prove')
    .description('write a proof bundle for one entry: the entry, its inclusion proof, the signed checkpoint')
    .argument('<entry-id>', 'the entry id (#42 in `audit log`)')
    .option('--data-dir <dir>', `${DATA_DIR_HELP}; without it, the running controller's API is asked`)
    .option('--server <url>', 'the controller API (default $PLUMBLINE_SERVER or http://127.0.0.1:7070)')
    .option('--token <token>', 'an API token with the viewer role (default $PLUMBLINE_TOKEN)')
    .option('--output <file>', 'write the bundle here (default stdout)')
    .addHelpText(
      'after',
      `
The bundle is JSON and checks offline with the ledger's public key alone (\`audit verify-proof\`).

Examples:
  plumbline audit prove 42 --output entry-42.proof.json
  plumbline audit prove 42 | jq .entry
${EXIT_HELP}`,
    )
    .action(async (idText: string, opts: Partial<LedgerOptions> & ServerOptions & { output?: string }) => {
      const id = parseId(idText, 'entry-id');
      await withLedgerOrApi(opts, async (ledger) => {
        writeOutput(opts.output, `${JSON.stringify(await ledger.prove(id), null, 2)}\n`);
      });
    });

  audit
    .command('verify-proof')
    .description('check a proof bundle offline, with nothing but the public key')
    .argument('<bundle>', 'the bundle file (`-` for stdin)')
    .requiredOption('--key <key-or-file>', 'the ledger verifier key you trust (name+id+base64, or a file)')
    .option('--json', 'print the verdict as JSON')
    .addHelpText(
      'after',
      `
Checks the checkpoint's signature, that the entry's canonical bytes are the leaf, and the inclusion proof
from that leaf to the checkpoint's root: the entry is in the log the key signed, at that position.

Examples:
  plumbline audit verify-proof entry-42.proof.json --key audit-key.pub
  plumbline audit verify-proof - --key "host/plumbline-audit/1a2b3c4d+89abcdef+AX…" < entry-42.proof.json
${EXIT_HELP}`,
    )
    .action(async (file: string, opts: { key: string; json?: boolean }) => {
      const { parseBundle, verifyBundle } = await import('../audit/bundle.js');
      const { loadVerifier } = await import('../audit/note.js');
      let text: string;
      try {
        text = readFileSync(file === '-' ? 0 : file, 'utf8');
      } catch (error) {
        throw new InputError(
          `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
      const verifier = loadVerifier(opts.key);
      const verdict = verifyBundle(parseBundle(text, file), verifier);
      if (opts.json === true) writeOutput(undefined, JSON.stringify(verdict, null, 2));
      else if (verdict.ok) {
        const e = verdict.entry;
        writeOutput(
          undefined,
          safe(
            `proof verified: entry ${e.id} (${e.action} by ${e.actor.id} at ${e.at}) is in the log ${verdict.origin} of ${verdict.treeSize} entries, at index ${e.id}, under a checkpoint signed by ${verdict.key}`,
          ),
        );
      } else process.stderr.write(`proof verification FAILED: ${safe(verdict.reason)}\n`);
      if (!verdict.ok) process.exitCode = 1;
    });

  audit
    .command('export')
    .description("every entry (or a filtered sample), oldest first, for the auditor's spreadsheet or tools")
    .requiredOption('--format <format>', 'jsonl (exact values) or csv')
    .option('--data-dir <dir>', DATA_DIR_HELP, '.plumbline')
    .option('--output <file>', 'write here (default stdout)')
    .option('--env <name>', 'only this environment')
    .option('--app <name>', 'only this app')
    .option('--actor <id>', 'only this actor')
    .option('--action <name>', 'only this action')
    .option('--since <when>', 'a date (2026-01-31) or how long ago (24h, 7d)')
    .addHelpText(
      'after',
      `
Each record carries its leaf hash. In CSV, before/after/evidence are JSON, and a cell that would start with
= + - or @ is prefixed with ' so a spreadsheet does not run it; JSONL keeps every value exact.

Examples:
  plumbline audit export --format csv --output changes.csv --since 2026-01-01
  plumbline audit export --format jsonl --env prod | jq -c 'select(.action == "sync.succeeded")'
${EXIT_HELP}`,
    )
    .action(async (opts: FilterOptions & { format: string; output?: string }) => {
      if (opts.format !== 'jsonl' && opts.format !== 'csv') {
        throw new UsageError(`--format: "${opts.format}" is not jsonl or csv`);
      }
      const filter = await filterOf(opts);
      await withLedger(opts.dataDir, async (ledger) => {
        const lines: string[] =
          opts.format === 'csv'
            ? [
                'id,at,actor_kind,actor,action,environment,app,revision,commit,reason,before,after,evidence,leaf_hash',
              ]
            : [];
        for await (const { entry, leafHash } of ledger.stream(filter)) {
          if (opts.format === 'jsonl') {
            lines.push(JSON.stringify({ ...entry, leafHash }));
            continue;
          }
          const s = entry.subject;
          lines.push(
            [
              entry.id,
              entry.at,
              entry.actor.kind,
              entry.actor.id,
              entry.action,
              s.environment,
              s.app,
              s.revision,
              s.commit,
              entry.reason,
              entry.before,
              entry.after,
              entry.evidence,
              leafHash,
            ]
              .map(csvCell)
              .join(','),
          );
        }
        writeOutput(opts.output, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
      });
    });

  audit
    .command('key')
    .description("print the ledger's public (verifier) key")
    .option('--data-dir <dir>', DATA_DIR_HELP, '.plumbline')
    .option('--key-file <file>', 'the private key file (default DATA_DIR/audit-key)')
    .option('--create', 'create the key when there is none yet (the controller does on its first start)')
    .option(
      '--name <name>',
      'with --create: the key name and checkpoint origin (default host/plumbline-audit/<random>)',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Give this key to auditors: it checks every checkpoint and proof bundle. The private key stays in the data
directory (mode 0600), outside the database.

Examples:
  plumbline audit key > audit-key.pub
  plumbline audit key --create --name example.com/prod-audit
${EXIT_HELP}`,
    )
    .action(
      async (opts: LedgerOptions & { keyFile?: string; create?: boolean; name?: string; json?: boolean }) => {
        const { existsSync } = await import('node:fs');
        const { keyLocation, loadOrCreateSigner, loadVerifier, loadSigner } = await import(
          '../audit/note.js'
        );
        const location = keyLocation(opts.dataDir, opts.keyFile);
        let key: string;
        let created = false;
        if (opts.create === true) {
          const result = loadOrCreateSigner(location, opts.name);
          key = result.signer.verifierKey;
          created = result.created;
          if (!created && opts.name !== undefined && result.signer.name !== opts.name) {
            throw new InputError(
              `a key named ${result.signer.name} exists already at ${location.privateKey}`,
              'a ledger keeps its key; drop --name',
            );
          }
        } else if (existsSync(location.publicKey)) key = loadVerifier(location.publicKey).verifierKey;
        else if (existsSync(location.privateKey)) key = loadSigner(location.privateKey).verifierKey;
        else {
          throw new InputError(
            `there is no audit key in ${opts.dataDir} yet`,
            'the controller creates it on its first start; or `plumbline audit key --create`',
          );
        }
        if (opts.json === true) {
          writeOutput(
            undefined,
            JSON.stringify(
              { key, created, privateKeyFile: location.privateKey, publicKeyFile: location.publicKey },
              null,
              2,
            ),
          );
          return;
        }
        if (created)
          process.stderr.write(`created ${location.privateKey} (mode 0600) and ${location.publicKey}\n`);
        writeOutput(undefined, key);
      },
    );

  audit
    .command('checkpoint')
    .description('sign a checkpoint of the ledger now and publish it (the controller does this on its own)')
    .option('--data-dir <dir>', DATA_DIR_HELP, '.plumbline')
    .option('--key-file <file>', 'the private key file (default DATA_DIR/audit-key)')
    .option('--publish-file <file>', 'append the checkpoint to this file (an append-only list)')
    .option(
      '--publish-ref <ref>',
      'commit the checkpoint onto this Git ref (e.g. refs/plumbline/checkpoints)',
    )
    .option('--repo <dir>', 'the Git repository for --publish-ref', '.')
    .option('--push <remote>', 'push the ref to this remote after committing')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  plumbline audit checkpoint --publish-file /mnt/offsite/checkpoints.txt
  plumbline audit checkpoint --publish-ref refs/plumbline/checkpoints --repo ./deploy-repo --push origin
${EXIT_HELP}`,
    )
    .action(
      async (
        opts: LedgerOptions & {
          keyFile?: string;
          publishFile?: string;
          publishRef?: string;
          repo: string;
          push?: string;
          json?: boolean;
        },
      ) => {
        const { keyLocation, loadSigner } = await import('../audit/note.js');
        const { Checkpointer, filePublisher, gitRefPublisher } = await import('../audit/checkpoint.js');
        const signer = loadSigner(keyLocation(opts.dataDir, opts.keyFile).privateKey);
        const publishers = [
          ...(opts.publishFile === undefined ? [] : [filePublisher(opts.publishFile)]),
          ...(opts.publishRef === undefined
            ? []
            : [
                gitRefPublisher({
                  repo: opts.repo,
                  ref: opts.publishRef,
                  ...(opts.push === undefined ? {} : { remote: opts.push }),
                }),
              ]),
        ];
        const failures: string[] = [];
        await withLedger(opts.dataDir, async (ledger) => {
          const checkpointer = new Checkpointer({
            ledger,
            signer,
            publishers,
            logger: {
              info: () => undefined,
              warn: (fields) => failures.push(`${String(fields.publisher)}: ${String(fields.err)}`),
            },
          });
          const checkpoint = await checkpointer.checkpointNow();
          if (opts.json === true)
            writeOutput(
              undefined,
              JSON.stringify({ ...checkpoint, published: publishers.map((p) => p.name), failures }, null, 2),
            );
          else writeOutput(undefined, checkpoint.note.trimEnd());
        });
        if (failures.length > 0)
          throw new InputError(`the checkpoint is stored but was not published: ${failures.join('; ')}`);
      },
    );
}
