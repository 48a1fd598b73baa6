// Where reports go: a file (written atomically) or stdout; and whether colour is allowed.
import { mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../errors.js';

export function useColor(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

export function writeOutput(file: string | undefined, text: string): void {
  if (file === undefined || file === '-') {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return;
  }
  try {
    // A device, pipe or socket (/dev/null, /dev/stdout, a FIFO) is written to, never replaced: renaming over
    // it would, as root, swap the device for a regular file for every process on the machine.
    const existing = statOrUndefined(file);
    if (existing !== undefined && !existing.isFile()) {
      writeFileSync(file, text);
      return;
    }
    mkdirSync(dirname(file), { recursive: true });
    const temp = `${file}.tmp-${process.pid}`;
    writeFileSync(temp, text);
    renameSync(temp, file);
  } catch (error) {
    throw new InputError(
      `cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function statOrUndefined(file: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}
