// `--profile`: one extra plumbline run under `node --cpu-prof` (main thread and each worker thread write a
// profile), summarised as the functions with the most self time per thread, and for the deps scan also with
// the most inclusive time (the function and what it calls; the program's and its packages' functions only).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { plumblineArgs } from './tools.mjs';
import { ensureDir, REPO_DIR, run } from './util.mjs';

function frameKey(frame) {
  const where =
    frame.url === '' ? '' : ` ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`;
  return `${(frame.functionName || '(anonymous)').slice(0, 60)}${where}`;
}

export function summarizeProfile(file, top, inclusive) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const total = new Map();
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const key = frameKey(nodes.get(id).callFrame);
    self.set(key, (self.get(key) ?? 0) + dt);
    if (!inclusive) return;
    // Inclusive time: each function on the sample's stack once (recursion counted once).
    const seen = new Set();
    for (let n = id; n !== undefined; n = parent.get(n)) {
      const frame = nodes.get(n).callFrame;
      // Only the program's own functions and its packages' (file: URLs), not Node's internals.
      if (!frame.url.startsWith('file:')) continue;
      const k = frameKey(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + dt);
    }
  });
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const idle = (self.get('(idle)') ?? 0) / 1000;
  const rows = [...self]
    .filter(([k]) => k !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => ({ fn: k, ms: us / 1000 }));
  const inclusiveRows = !inclusive
    ? undefined
    : [...total]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top * 2)
        .map(([k, us]) => ({ fn: k, ms: us / 1000 }));
  return { totalMs, idleMs: idle, rows, inclusiveRows };
}

/**
 * Profiles one plumbline run over `dir` (`only`/`dataDir` as for plumblineArgs); returns per-thread summaries
 * (main thread first).
 */
export function profilePlumbline(
  dir,
  { history = false, only, dataDir, workDir, label, top = 12, inclusive = false },
) {
  const out = join(workDir, `profile-${label}`);
  rmSync(out, { recursive: true, force: true });
  ensureDir(out);
  const [bin, ...args] = plumblineArgs(dir, { history, only, dataDir });
  const result = run('node', ['--cpu-prof', '--cpu-prof-dir', out, bin, ...args], { cwd: REPO_DIR });
  if (result.status !== 0 && result.status !== 1) throw new Error(`profiled run exited ${result.status}`);
  return readdirSync(out)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .map((f, i) => ({
      thread: i === 0 ? 'main' : `worker ${i}`,
      file: join(out, f),
      ...summarizeProfile(join(out, f), top, inclusive),
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
    if (t.inclusiveRows !== undefined) {
      lines.push('Top inclusive time (the function and what it calls):', '', '```');
      for (const r of t.inclusiveRows) lines.push(`${r.ms.toFixed(0).padStart(6)} ms  ${r.fn}`);
      lines.push('```', '');
    }
  }
  lines.push('</details>', '');
  return lines.join('\n');
}
