// A worker thread of the tree scan: compiles the rules once, then scans batches of files it is sent.
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { compileRules, type GlobalAllow } from './engine.js';
import type { SecretRule } from './rule.js';
import { type FileResult, scanFile } from './scan-file.js';

export interface WorkerInit {
  readonly rules: readonly SecretRule[];
  readonly allow: GlobalAllow;
  readonly root: string;
  readonly maxFileSize: number;
}

export interface WorkerBatch {
  readonly id: number;
  readonly paths: readonly string[];
}

export interface WorkerReply {
  readonly id: number;
  readonly results: readonly FileResult[];
}

if (parentPort !== null) {
  const init = workerData as WorkerInit;
  const compiled = compileRules(init.rules, init.allow);
  const port = parentPort;
  port.on('message', (batch: WorkerBatch) => {
    const results = batch.paths.map((p) => scanFile(join(init.root, p), p, compiled, init.maxFileSize));
    port.postMessage({ id: batch.id, results } satisfies WorkerReply);
  });
}
