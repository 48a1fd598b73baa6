// Instances left behind by a supervisor that died without stopping them (SIGKILL, a crash): found by the
// PLUMBLINE_SUPERVISOR_DIR in their environment (Linux /proc), and stopped before a new supervisor re-spawns.
import { readdir, readFile } from 'node:fs/promises';
import { killGroup } from './supervisor.js';

/** The variable every instance gets, naming the directory of the supervisor that started it. */
export const SUPERVISOR_DIR_ENV = 'PLUMBLINE_SUPERVISOR_DIR';

/** Whether a NUL-separated environment block names this supervisor directory. */
export function environMatches(environ: string, dir: string): boolean {
  return environ.split('\0').includes(`${SUPERVISOR_DIR_ENV}=${dir}`);
}

/** The process group of a /proc/<pid>/stat line (field 5, after the parenthesised command). */
export function pgidFromStat(stat: string): number | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const pgid = Number(fields[2]);
  if (state === 'Z' || state === 'X' || !Number.isInteger(pgid) || pgid <= 0) return undefined;
  return pgid;
}

/**
 * Process groups of live processes started for `dir` (ours only: others' environments are unreadable),
 * leaving out the groups `isOwn` claims (the running supervisor's own instances).
 */
export async function findOrphanGroups(
  dir: string,
  isOwn: (pgid: number) => boolean = () => false,
  proc = '/proc',
): Promise<number[]> {
  const entries = await readdir(proc).catch(() => [] as string[]);
  const groups = new Set<number>();
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = await readFile(`${proc}/${entry}/environ`, 'latin1');
      if (!environMatches(environ, dir)) continue;
      const pgid = pgidFromStat(await readFile(`${proc}/${entry}/stat`, 'utf8'));
      if (pgid !== undefined && pgid !== process.pid) groups.add(pgid);
    } catch {
      // gone, or not ours
    }
  }
  return [...groups].filter((pgid) => !isOwn(pgid)).sort((a, b) => a - b);
}

/** SIGTERM to each group, SIGKILL to what is left after `graceMs`; returns the groups it found. */
export async function stopOrphans(
  dir: string,
  graceMs: number,
  isOwn: (pgid: number) => boolean = () => false,
): Promise<number[]> {
  const groups = await findOrphanGroups(dir, isOwn);
  if (groups.length === 0) return groups;
  for (const pgid of groups) killGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && (await findOrphanGroups(dir, isOwn)).length > 0) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  for (const pgid of await findOrphanGroups(dir, isOwn)) killGroup(pgid, 'SIGKILL');
  return groups;
}
