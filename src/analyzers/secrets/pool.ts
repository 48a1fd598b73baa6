// Spreads a tree scan over worker threads (one per core). Workers start before the file list is ready, so
// their start-up overlaps listing the tree. Small trees, and runs from TypeScript sources (tests), scan on
// the calling thread instead: workers cost more than they save there.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Progress } from '../../observe/progress.js';
import { compileRules } from './engine.js';
import { type FileResult, scanFile } from './scan-file.js';
import type { WorkerBatch, WorkerInit, WorkerReply } from './worker.js';

const WORKER_FILE = fileURLToPath(new URL('./worker.js', import.meta.url));
const MIN_FILES_FOR_WORKERS = 200;
const BATCH_FILES = 64;

export interface PoolOptions {
  readonly init: WorkerInit;
  /** The files to scan; may still be being listed when the pool starts. */
  readonly paths: readonly string[] | Promise<readonly string[]>;
  readonly progress: Progress;
  readonly signal: AbortSignal;
  /** Overrides the thread count (0: scan on this thread). */
  readonly threads?: number;
  /** Overrides the worker script (tests running from sources point it at the build). */
  readonly workerFile?: string;
}

export async function scanFiles(options: PoolOptions): Promise<FileResult[]> {
  const workerFile = options.workerFile ?? WORKER_FILE;
  const wanted =
    options.threads ?? (existsSync(workerFile) ? Math.max(1, Math.min(availableParallelism(), 8)) : 0);
  // Start the workers now; they load and compile the rules while the files are listed.
  const workers = Array.from({ length: wanted }, () => new Worker(workerFile, { workerData: options.init }));
  try {
    const paths = await options.paths;
    if (workers.length === 0 || (options.threads === undefined && paths.length < MIN_FILES_FOR_WORKERS)) {
      return scanHere(options.init, paths, options.progress, options.signal);
    }
    return await scanInWorkers(workers, paths, options.progress, options.signal);
  } finally {
    for (const w of workers) void w.terminate();
  }
}

function scanHere(
  init: WorkerInit,
  paths: readonly string[],
  progress: Progress,
  signal: AbortSignal,
): FileResult[] {
  const compiled = compileRules(init.rules, init.allow);
  const results: FileResult[] = [];
  let bytes = 0;
  for (const p of paths) {
    signal.throwIfAborted();
    const result = scanFile(join(init.root, p), p, compiled, init.maxFileSize);
    bytes += result.bytes;
    results.push(result);
    progress.update(results.length, paths.length, `files, ${(bytes / 1e6).toFixed(1)} MB`);
  }
  return results;
}

function scanInWorkers(
  workers: readonly Worker[],
  paths: readonly string[],
  progress: Progress,
  signal: AbortSignal,
): Promise<FileResult[]> {
  return new Promise((resolve, reject) => {
    const results: FileResult[] = [];
    let next = 0;
    let batchId = 0;
    let pending = 0;
    let bytes = 0;
    let settled = false;

    const finish = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (error !== undefined) reject(error);
      else resolve(results);
    };
    const onAbort = (): void => finish(signal.reason);
    if (signal.aborted) return finish(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });

    const feed = (worker: Worker): void => {
      if (next >= paths.length) return;
      const batch: WorkerBatch = { id: batchId++, paths: paths.slice(next, next + BATCH_FILES) };
      next += batch.paths.length;
      pending++;
      worker.postMessage(batch);
    };

    for (const worker of workers) {
      worker.on('message', (reply: WorkerReply) => {
        if (settled) return;
        pending--;
        for (const r of reply.results) {
          bytes += r.bytes;
          results.push(r);
        }
        progress.update(results.length, paths.length, `files, ${(bytes / 1e6).toFixed(1)} MB`);
        feed(worker);
        if (pending === 0 && next >= paths.length) finish();
      });
      worker.on('error', (error) => finish(error));
      // Two batches in flight per worker, so it never waits for the main thread.
      feed(worker);
      feed(worker);
    }
    if (pending === 0) finish();
  });
}
