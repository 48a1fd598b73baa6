// Spreads a tree scan over worker threads (one per core). Small trees, and runs from TypeScript sources
// (tests), scan on the calling thread instead: starting workers costs more than it saves there.
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
  readonly paths: readonly string[];
  readonly progress: Progress;
  readonly signal: AbortSignal;
  /** Overrides the thread count (0: scan on this thread). */
  readonly threads?: number;
  /** Overrides the worker script (tests running from sources point it at the build). */
  readonly workerFile?: string;
}

export async function scanFiles(options: PoolOptions): Promise<FileResult[]> {
  const threads = options.threads ?? defaultThreads(options.paths.length);
  if (threads === 0) return scanHere(options);
  return scanInWorkers(options, threads);
}

function defaultThreads(files: number): number {
  if (files < MIN_FILES_FOR_WORKERS || !existsSync(WORKER_FILE)) return 0;
  return Math.max(1, Math.min(availableParallelism(), 8));
}

function scanHere({ init, paths, progress, signal }: PoolOptions): FileResult[] {
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
  { init, paths, progress, signal, workerFile = WORKER_FILE }: PoolOptions,
  threads: number,
): Promise<FileResult[]> {
  return new Promise((resolve, reject) => {
    const results: FileResult[] = [];
    const workers: Worker[] = [];
    let next = 0;
    let batchId = 0;
    let pending = 0;
    let bytes = 0;
    let failed = false;

    const finish = (error?: unknown): void => {
      signal.removeEventListener('abort', onAbort);
      for (const w of workers) void w.terminate();
      if (error !== undefined) reject(error);
      else resolve(results);
    };
    const onAbort = (): void => {
      failed = true;
      finish(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });

    const feed = (worker: Worker): void => {
      if (next >= paths.length) return;
      const batch: WorkerBatch = { id: batchId++, paths: paths.slice(next, next + BATCH_FILES) };
      next += batch.paths.length;
      pending++;
      worker.postMessage(batch);
    };

    for (let i = 0; i < threads; i++) {
      const worker = new Worker(workerFile, { workerData: init });
      workers.push(worker);
      worker.on('message', (reply: WorkerReply) => {
        if (failed) return;
        pending--;
        for (const r of reply.results) {
          bytes += r.bytes;
          results.push(r);
        }
        progress.update(results.length, paths.length, `files, ${(bytes / 1e6).toFixed(1)} MB`);
        feed(worker);
        if (pending === 0 && next >= paths.length) finish();
      });
      worker.on('error', (error) => {
        if (failed) return;
        failed = true;
        finish(error);
      });
      // Two batches in flight per worker, so it never waits for the main thread.
      feed(worker);
      feed(worker);
    }
    if (pending === 0) finish();
  });
}
