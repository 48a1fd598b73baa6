// The supervisor's state file: the specs that should run, written atomically (temp file, fsync, rename) so a
// restarted supervisor starts them again.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { type InstanceSpec, instanceSpecSchema } from './protocol.js';

const stateSchema = z.object({
  version: z.literal(1),
  instances: z.record(z.string(), instanceSpecSchema),
});

/** Reads the specs to run; a missing file is none, a corrupt one an error (it names the file). */
export async function loadState(path: string): Promise<Map<string, InstanceSpec>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not JSON`);
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(`${path} is not a supervisor state file: ${parsed.error.issues[0]?.message}`);
  return new Map(Object.entries(parsed.data.instances));
}

/** Writes the state file atomically. */
export async function writeStateAtomic(
  path: string,
  specs: ReadonlyMap<string, InstanceSpec>,
): Promise<void> {
  const body = `${JSON.stringify({ version: 1, instances: Object.fromEntries(specs) }, null, 2)}\n`;
  const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(body);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temp, path);
}

/** Serialises writes so that the last call's specs are what ends up in the file. */
export function stateWriter(path: string): (specs: ReadonlyMap<string, InstanceSpec>) => Promise<void> {
  let queue: Promise<void> = Promise.resolve();
  return (specs) => {
    const snapshot = new Map(specs);
    const next = queue.then(() => writeStateAtomic(path, snapshot));
    queue = next.catch(() => {});
    return next;
  };
}
