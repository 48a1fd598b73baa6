// Checkpoints: the ledger's size and root in a C2SP tlog-checkpoint signed note, made every N entries or T
// seconds and at shutdown (`Checkpointer`), and published outside the database — to a file and to a Git ref
// (`refs/plumbline/checkpoints`) — so that rewriting the whole database is detectable.
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { GitError } from '../errors.js';
import { HASH_BYTES } from './merkle.js';
import { isKeyName, type NoteSigner, type NoteVerifier, openNote, signNote } from './note.js';
import type { AuditLedger, Checkpoint, CheckpointSigner } from './store.js';

export const CHECKPOINT_REF = 'refs/plumbline/checkpoints';
/** The file each commit on the ref holds. */
export const CHECKPOINT_FILE = 'checkpoint';

/** The note text of a checkpoint: origin, size, base64 root, each on its own line. */
export function checkpointBody(origin: string, size: number, root: Uint8Array): string {
  return `${origin}\n${size}\n${Buffer.from(root).toString('base64')}\n`;
}

/** Signs checkpoints with a note key; the origin is the key's name, as C2SP recommends. */
export function checkpointSigner(signer: NoteSigner): CheckpointSigner {
  return {
    signCheckpoint: (size, root) => signNote(checkpointBody(signer.name, size, root), signer),
  };
}

export interface OpenedCheckpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Buffer;
  readonly note: string;
}

/** Parses a checkpoint's note text (not its signatures). */
export function parseCheckpointText(
  text: string,
): { ok: true; origin: string; size: number; root: Buffer } | { ok: false; reason: string } {
  const lines = text.split('\n');
  // The text ends with a newline, so the last element is empty.
  if (lines.length < 4 || lines[lines.length - 1] !== '')
    return { ok: false, reason: 'a checkpoint has at least three lines' };
  const [origin, sizeText, rootText, ...extensions] = lines.slice(0, -1) as [
    string,
    string,
    string,
    ...string[],
  ];
  if (origin === '') return { ok: false, reason: 'the checkpoint has an empty origin' };
  if (!/^(0|[1-9]\d*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    return { ok: false, reason: `"${sizeText.slice(0, 40)}" is not a tree size` };
  }
  const root = Buffer.from(rootText, 'base64');
  if (root.length !== HASH_BYTES || root.toString('base64') !== rootText) {
    return { ok: false, reason: 'the root line is not the base64 of a 32-byte hash' };
  }
  if (extensions.some((line) => line === '')) return { ok: false, reason: 'an extension line is empty' };
  return { ok: true, origin, size: Number(sizeText), root };
}

/** Opens a checkpoint signed by `verifier`, whose origin must be the key's name. */
export function openCheckpoint(
  note: string,
  verifier: NoteVerifier,
): { ok: true; checkpoint: OpenedCheckpoint } | { ok: false; reason: string } {
  const opened = openNote(note, [verifier]);
  if (!opened.ok) return opened;
  const parsed = parseCheckpointText(opened.text);
  if (!parsed.ok) return parsed;
  if (parsed.origin !== verifier.name) {
    return { ok: false, reason: `its origin "${parsed.origin}" is not the ledger's ("${verifier.name}")` };
  }
  return { ok: true, checkpoint: { origin: parsed.origin, size: parsed.size, root: parsed.root, note } };
}

/**
 * Splits a file of notes appended one after another (what `filePublisher` writes in `append` mode, or a
 * single latest note) into notes: each ends with its signature lines, and the next begins with a line that
 * is not one.
 */
export function splitNotes(text: string): string[] {
  const notes: string[] = [];
  let current: string[] = [];
  let inSignatures = false;
  for (const line of text.split('\n')) {
    if (inSignatures && !line.startsWith('— ')) {
      notes.push(`${current.join('\n')}\n`);
      current = [];
      inSignatures = false;
      if (line === '') continue;
    }
    if (!inSignatures && line === '' && current.length > 0) {
      current.push(line);
      inSignatures = true;
      continue;
    }
    if (line !== '' || current.length > 0) current.push(line);
  }
  if (current.length > 0) notes.push(`${current.join('\n')}\n`);
  return notes;
}

// --- publishing ---

/** Where checkpoints go outside the database. */
export interface CheckpointPublisher {
  /** For logs: `file ./checkpoints.txt`, `git refs/plumbline/checkpoints in ./repo`. */
  readonly name: string;
  publish(checkpoint: Checkpoint): Promise<void>;
}

export interface FilePublisherOptions {
  /** `append` (default): every checkpoint appended, the file an append-only list; `latest`: replaced. */
  readonly mode?: 'append' | 'latest';
}

/** Publishes to a file. Give it a path outside the data directory (another disk, a synced folder). */
export function filePublisher(path: string, options: FilePublisherOptions = {}): CheckpointPublisher {
  const mode = options.mode ?? 'append';
  return {
    name: `file ${path}`,
    async publish(checkpoint) {
      mkdirSync(dirname(path), { recursive: true });
      if (mode === 'append') {
        // A restarted controller republishes its latest checkpoint; the list holds it once.
        if (!endsWith(path, checkpoint.note)) appendFileSync(path, checkpoint.note);
        return;
      }
      const temp = `${path}.tmp-${process.pid}`;
      writeFileSync(temp, checkpoint.note);
      renameSync(temp, path);
    },
  };
}

function endsWith(path: string, text: string): boolean {
  const want = Buffer.from(text, 'utf8');
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    if (size < want.length) return false;
    const tail = Buffer.alloc(want.length);
    readSync(fd, tail, 0, want.length, size - want.length);
    return tail.equals(want);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface GitPublisherOptions {
  /** A Git repository (a work tree or a bare one). */
  readonly repo: string;
  readonly ref?: string;
  /** Push the ref there after each commit; a remote that refuses a non-fast-forward then guards history. */
  readonly remote?: string;
}

const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'plumbline',
  GIT_AUTHOR_EMAIL: 'plumbline@localhost',
  GIT_COMMITTER_NAME: 'plumbline',
  GIT_COMMITTER_EMAIL: 'plumbline@localhost',
};

/** Runs git with an argument array and optional stdin; resolves stdout, rejects with a GitError. */
export async function runGit(repo: string, args: readonly string[], input?: string): Promise<string> {
  return (await runGitBytes(repo, args, input)).toString('utf8');
}

function runGitBytes(repo: string, args: readonly string[], input?: string): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('git', ['-C', repo, ...args], {
      env: { ...process.env, ...GIT_IDENTITY, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) =>
      reject(new GitError(`git ${args[0]}: ${error.message}`, 'is git installed?')),
    );
    child.on('close', (code) => {
      if (code === 0) resolvePromise(Buffer.concat(out));
      else {
        const message = Buffer.concat(err).toString('utf8').trim().split('\n')[0] ?? '';
        reject(
          new GitError(
            `git ${args.join(' ')} in ${repo}: ${message.replace(/^fatal: /, '') || `exit ${code}`}`,
          ),
        );
      }
    });
    // git may exit before reading its input (a repository that does not exist): its exit code says why.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/**
 * Publishes to a Git ref with plumbing only (hash-object, mktree, commit-tree, update-ref): each checkpoint
 * a commit whose tree holds the file `checkpoint`, its parent the previous one, so the ref's history is the
 * list of every checkpoint. The ref moves only from the value it had (compare-and-swap), never backwards.
 */
export function gitRefPublisher(options: GitPublisherOptions): CheckpointPublisher {
  const ref = options.ref ?? CHECKPOINT_REF;
  return {
    name: `git ${ref} in ${options.repo}${options.remote === undefined ? '' : ` (pushed to ${options.remote})`}`,
    async publish(checkpoint) {
      const { repo } = options;
      const blob = (await runGit(repo, ['hash-object', '-w', '--stdin'], checkpoint.note)).trim();
      const tree = (await runGit(repo, ['mktree'], `100644 blob ${blob}\t${CHECKPOINT_FILE}\n`)).trim();
      const parent = await runGit(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).then(
        (out) => out.trim(),
        () => undefined,
      );
      const message = `checkpoint ${checkpoint.size}\n\n${checkpoint.note}`;
      const commit = (
        await runGit(
          repo,
          ['commit-tree', tree, ...(parent === undefined ? [] : ['-p', parent]), '-F', '-'],
          message,
        )
      ).trim();
      await runGit(repo, ['update-ref', ref, commit, parent ?? '0'.repeat(40)]);
      if (options.remote !== undefined)
        await runGit(repo, ['push', '--quiet', options.remote, `${ref}:${ref}`]);
    },
  };
}

/** Every checkpoint note on a Git ref, oldest first (one `git cat-file --batch` for the whole history). */
export async function readGitCheckpoints(repo: string, ref: string = CHECKPOINT_REF): Promise<string[]> {
  const commits = (await runGit(repo, ['rev-list', '--reverse', `${ref}^{commit}`]))
    .split('\n')
    .filter(Boolean);
  if (commits.length === 0) return [];
  const batch = await runGitBytes(
    repo,
    ['cat-file', '--batch'],
    commits.map((commit) => `${commit}:${CHECKPOINT_FILE}\n`).join(''),
  );
  const notes: string[] = [];
  let at = 0;
  // Each object: `<sha> blob <bytes>\n<content>\n`; sizes are in bytes (the em dash is three).
  while (at < batch.length) {
    const headerEnd = batch.indexOf(0x0a, at);
    const header = batch.subarray(at, headerEnd).toString('utf8');
    const match = /^[0-9a-f]+ blob (\d+)$/.exec(header);
    if (match === null) {
      throw new GitError(`${ref} in ${repo}: a commit without a ${CHECKPOINT_FILE} file (${header})`);
    }
    const length = Number(match[1]);
    notes.push(batch.subarray(headerEnd + 1, headerEnd + 1 + length).toString('utf8'));
    at = headerEnd + 1 + length + 1;
  }
  return notes;
}

// --- the checkpointer ---

/** A structured logger (pino's shape), optional. */
export interface CheckpointLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface CheckpointerOptions {
  readonly ledger: AuditLedger;
  readonly signer: NoteSigner;
  readonly publishers?: readonly CheckpointPublisher[];
  /** A checkpoint once this many entries were appended since the last (default 1000). */
  readonly everyEntries?: number;
  /** …or once this much time passed with new entries (default 60 s). */
  readonly everyMs?: number;
  /** How often to look at the ledger's size (default 1 s, or everyMs when shorter). */
  readonly pollMs?: number;
  readonly logger?: CheckpointLogger;
}

/**
 * Signs a checkpoint every N entries or T seconds (whichever comes first, only when there is something new)
 * and at `stop()`, and publishes each one. A publisher that fails is retried with the next checkpoint (a
 * transient failure); the checkpoint itself is already stored.
 */
export class Checkpointer {
  readonly #ledger: AuditLedger;
  readonly #signer: CheckpointSigner;
  readonly #publishers: readonly CheckpointPublisher[];
  readonly #everyEntries: number;
  readonly #everyMs: number;
  readonly #pollMs: number;
  readonly #logger: CheckpointLogger | undefined;
  readonly #published = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> = Promise.resolve();
  #lastSize = -1;
  #lastAt = 0;

  constructor(options: CheckpointerOptions) {
    const everyEntries = options.everyEntries ?? 1000;
    const everyMs = options.everyMs ?? 60_000;
    const pollMs = options.pollMs ?? Math.min(1000, everyMs);
    for (const [name, value] of Object.entries({ everyEntries, everyMs, pollMs })) {
      if (!Number.isSafeInteger(value) || value < 1)
        throw new RangeError(`${name} must be a positive integer (found ${value})`);
    }
    if (!isKeyName(options.signer.name))
      throw new RangeError(`"${options.signer.name}" cannot be a checkpoint origin`);
    this.#ledger = options.ledger;
    this.#signer = checkpointSigner(options.signer);
    this.#publishers = options.publishers ?? [];
    this.#everyEntries = everyEntries;
    this.#everyMs = everyMs;
    this.#pollMs = pollMs;
    this.#logger = options.logger;
  }

  /** Starts the timer; `signal` stops it as `stop()` would (with the final checkpoint). */
  start(signal?: AbortSignal): void {
    if (this.#timer !== undefined) return;
    this.#lastAt = Date.now();
    this.#timer = setInterval(() => {
      this.#running = this.#running.then(() => this.#tick()).catch(() => undefined);
    }, this.#pollMs);
    this.#timer.unref();
    signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  /** Stops the timer and makes (and publishes) a final checkpoint of everything appended. */
  async stop(): Promise<Checkpoint> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
    return this.checkpointNow();
  }

  /** Signs a checkpoint of the current size now (or returns the one of that size) and publishes it. */
  async checkpointNow(): Promise<Checkpoint> {
    const checkpoint = await this.#ledger.checkpoint(this.#signer);
    this.#lastSize = checkpoint.size;
    this.#lastAt = Date.now();
    await this.#publish(checkpoint);
    return checkpoint;
  }

  async #tick(): Promise<void> {
    const size = await this.#ledger.size();
    if (this.#lastSize < 0) this.#lastSize = (await this.#ledger.latestCheckpoint())?.size ?? 0;
    const pending = size - this.#lastSize;
    const behind = this.#publishers.some((p) => (this.#published.get(p.name) ?? -1) < this.#lastSize);
    if (pending >= this.#everyEntries || (pending > 0 && Date.now() - this.#lastAt >= this.#everyMs)) {
      await this.checkpointNow();
    } else if (behind && this.#lastSize > 0) {
      const latest = await this.#ledger.latestCheckpoint();
      if (latest !== undefined) await this.#publish(latest);
    }
  }

  async #publish(checkpoint: Checkpoint): Promise<void> {
    for (const publisher of this.#publishers) {
      if ((this.#published.get(publisher.name) ?? -1) >= checkpoint.size) continue;
      try {
        await publisher.publish(checkpoint);
        this.#published.set(publisher.name, checkpoint.size);
        this.#logger?.info(
          { size: checkpoint.size, publisher: publisher.name },
          'audit checkpoint published',
        );
      } catch (error) {
        this.#logger?.warn(
          { size: checkpoint.size, publisher: publisher.name, err: (error as Error).message },
          'audit checkpoint not published; retrying with the next one',
        );
      }
    }
  }
}
