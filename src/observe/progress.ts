// Progress on stderr, only on a terminal and only once work has taken longer than a second.

export interface Progress {
  /** Sets the current counts; cheap to call often. */
  update(done: number, total: number | undefined, detail: string): void;
  done(): void;
}

export const silentProgress: Progress = { update() {}, done() {} };

export function terminalProgress(stream: NodeJS.WriteStream, label: string, delayMs = 1000): Progress {
  const started = Date.now();
  let last = 0;
  let shown = false;
  return {
    update(done, total, detail) {
      const now = Date.now();
      if (now - started < delayMs || now - last < 100) return;
      last = now;
      shown = true;
      const count = total === undefined ? `${done}` : `${done}/${total}`;
      const line = `${label}: ${count} ${detail}`.slice(0, Math.max(20, (stream.columns ?? 80) - 1));
      stream.write(`\r\x1b[2K${line}`);
    },
    done() {
      if (shown) stream.write('\r\x1b[2K');
    },
  };
}
