// The router's state file: the routing table, written atomically (temporary file, fsync, rename) on every
// change and read back on start, so a restarted router serves again before the controller calls.
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeZodError, type RouterState, stateSchema } from './protocol.js';

export type LoadedState =
  | { readonly kind: 'missing' }
  | { readonly kind: 'ok'; readonly state: RouterState }
  | { readonly kind: 'invalid'; readonly message: string };

export async function readState(file: string): Promise<LoadedState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'invalid', message: `cannot read ${file}: ${(error as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { kind: 'invalid', message: `${file} is not JSON: ${(error as Error).message}` };
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) return { kind: 'invalid', message: `${file}: ${describeZodError(parsed.error)}` };
  return { kind: 'ok', state: parsed.data };
}

/** Replaces `file` with `state` so that a reader sees the old or the new table, never half of one. */
export async function writeStateAtomic(file: string, state: RouterState): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  // The rename itself is durable only once the directory is synced.
  const directory = await open(dirname(file), 'r');
  try {
    await directory.sync();
  } catch {
    // Some file systems cannot sync a directory; the rename is still atomic.
  } finally {
    await directory.close();
  }
}
