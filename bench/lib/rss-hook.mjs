// Preloaded into the measured Node process (NODE_OPTIONS=--import) by the benchmark: at exit, the main
// thread writes the process's peak resident set size (VmHWM, in kB; worker threads share the process) to
// $PLUMBLINE_BENCH_RSS_FILE. Measurement only: it changes nothing the process does.
import { readFileSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const target = process.env.PLUMBLINE_BENCH_RSS_FILE;
if (isMainThread && target) {
  process.on('exit', () => {
    try {
      const status = readFileSync('/proc/self/status', 'utf8');
      const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
      if (match) writeFileSync(target, match[1]);
    } catch {
      // measurement is best effort
    }
  });
}
