// `--profile`: one extra plumbline run under `node --cpu-prof` (main thread and each worker thread write a
// profile), summarised as the functions with the most self time per thread.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { plumblineArgs } from './tools.mjs';
import { ensureDir, REPO_DIR, run } from './util.mjs';

function summarizeProfile(file, top) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id).callFrame;
    const where =
      frame.url === '' ? '' : ` ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`;
    const name = (frame.functionName || '(anonymous)').slice(0, 60);
    const key = `${name}${where}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const idle = (self.get('(idle)') ?? 0) / 1000;
  const rows = [...self]
    .filter(([k]) => k !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => ({ fn: k, ms: us / 1000 }));
  return { totalMs, idleMs: idle, rows };
}

/** Profiles one plumbline run over `dir`; returns per-thread summaries (main thread first). */
export function profilePlumbline(dir, { history = false, workDir, label, top = 12 }) {
  const out = join(workDir, `profile-${label}`);
  rmSync(out, { recursive: true, force: true });
  ensureDir(out);
  const [bin, ...args] = plumblineArgs(dir, { history });
  const result = run('node', ['--cpu-prof', '--cpu-prof-dir', out, bin, ...args], { cwd: REPO_DIR });
  if (result.status !== 0 && result.status !== 1) throw new Error(`profiled run exited ${result.status}`);
  return readdirSync(out)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .map((f, i) => ({
      thread: i === 0 ? 'main' : `worker ${i}`,
      file: join(out, f),
      ...summarizeProfile(join(out, f), top),
    }));
}

export function renderProfile(label, threads) {
  const lines = [`<details><summary>CPU profile: ${label}</summary>`, ''];
  for (const t of threads) {
    lines.push(
      `${t.thread}: ${t.totalMs.toFixed(0)} ms wall, ${(t.totalMs - t.idleMs).toFixed(0)} ms busy. Top self time:`,
      '',
    );
    lines.push('```');
    for (const r of t.rows) lines.push(`${r.ms.toFixed(0).padStart(6)} ms  ${r.fn}`);
    lines.push('```', '');
  }
  lines.push('</details>', '');
  return lines.join('\n');
}
