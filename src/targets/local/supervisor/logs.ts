// Instance logs: a Writable that appends to a file and rotates it by size (`x.log` → `x.log.1` → …), and
// reading the last lines back across the rotated files.

import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';

export interface RotationOptions {
  /** Rotate before a write would take the file past this many bytes. */
  readonly maxBytes: number;
  /** How many files to keep in all, the live one included (`x.log`, `x.log.1`, … `x.log.{files-1}`). */
  readonly files: number;
}

export const DEFAULT_ROTATION: RotationOptions = { maxBytes: 10 * 1024 * 1024, files: 3 };

/** The name of the `n`th file of a rotated log: 0 is the live file. */
export function rotatedPath(path: string, n: number): string {
  return n === 0 ? path : `${path}.${n}`;
}

/**
 * How many bytes of `chunk` go into a file that holds `size` bytes before it must rotate; 0 means rotate
 * now. Whole lines are kept together where they fit; only a line longer than a whole file is cut.
 */
export function splitPoint(chunk: Uint8Array, size: number, maxBytes: number): number {
  const room = maxBytes - size;
  if (chunk.length <= room) return chunk.length;
  if (room > 0) {
    const newline = chunk.lastIndexOf(0x0a, room - 1);
    if (newline >= 0) return newline + 1;
  }
  return size > 0 ? 0 : Math.min(chunk.length, maxBytes);
}

/**
 * Appends everything written to `path`, rotating by size. Both of an instance's streams pipe into one of
 * these (with `{ end: false }`), so writes are serialised and back-pressure reaches the child's pipes.
 */
export class RotatingLog extends Writable {
  readonly path: string;
  readonly #rotation: RotationOptions;
  #handle: FileHandle | undefined;
  #size = 0;

  constructor(path: string, rotation: RotationOptions = DEFAULT_ROTATION) {
    super({ decodeStrings: true });
    if (rotation.files < 1 || rotation.maxBytes < 1)
      throw new RangeError('log rotation needs files ≥ 1 and maxBytes ≥ 1');
    this.path = path;
    this.#rotation = rotation;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.#openLive().then(() => callback(), callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#append(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#close().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#close().then(
      () => callback(error),
      () => callback(error),
    );
  }

  async #openLive(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    this.#handle = await open(this.path, 'a', 0o600);
    this.#size = (await this.#handle.stat()).size;
  }

  async #append(chunk: Buffer): Promise<void> {
    let rest = chunk;
    while (rest.length > 0) {
      const take = splitPoint(rest, this.#size, this.#rotation.maxBytes);
      if (take === 0) {
        await this.#rotate();
        continue;
      }
      const handle = this.#handle;
      if (handle === undefined) return;
      await handle.write(rest.subarray(0, take));
      this.#size += take;
      rest = rest.subarray(take);
    }
  }

  async #rotate(): Promise<void> {
    await this.#close();
    const last = this.#rotation.files - 1;
    if (last === 0) {
      await rm(this.path, { force: true });
    } else {
      await rm(rotatedPath(this.path, last), { force: true });
      for (let n = last - 1; n >= 0; n--) {
        await rename(rotatedPath(this.path, n), rotatedPath(this.path, n + 1)).catch(ignoreMissing);
      }
    }
    await this.#openLive();
  }

  async #close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}

/** The last `count` lines of a rotated log, oldest first, reading back into older files as needed. */
export async function tailLog(
  path: string,
  count: number,
  files = DEFAULT_ROTATION.files,
): Promise<string[]> {
  const lines: string[] = [];
  for (let n = 0; n < Math.max(files, 1) && lines.length < count; n++) {
    const older = await tailFile(rotatedPath(path, n), count - lines.length);
    lines.unshift(...older);
  }
  return lines;
}

const BLOCK = 64 * 1024;

/** The last `count` lines of one file (a final line without a newline counts), or none if it is missing. */
export async function tailFile(path: string, count: number): Promise<string[]> {
  if (count <= 0) return [];
  const size = await stat(path).then(
    (s) => s.size,
    () => -1,
  );
  if (size <= 0) return [];
  const handle = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let position = size;
    let newlines = 0;
    // One newline more than lines wanted, not counting a final newline, bounds what we must read.
    while (position > 0 && newlines <= count) {
      const length = Math.min(BLOCK, position);
      position -= length;
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, position);
      chunks.unshift(buffer);
      for (const byte of buffer) if (byte === 0x0a) newlines++;
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const all = text.split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-count);
  } finally {
    await handle.close();
  }
}
