// Streams `git log -p` / `git diff` output and yields, per file and commit, the lines the change added.
// Works on bytes (a chunk at a time) so memory stays flat however long the history is.
import type { Readable } from 'node:stream';

export interface CommitInfo {
  readonly sha: string;
  readonly author: string;
  readonly email: string;
  readonly date: string;
}

/** The added lines of one file in one commit (or in the index), joined with `\n`. */
export interface AddedFragment {
  readonly path: string;
  readonly commit: CommitInfo | undefined;
  readonly text: Buffer;
  /** `lines[i]` is the line number in the new file of line i + 1 of `text`. */
  readonly lines: Int32Array;
}

/** A marker git prints before each commit's header (see HISTORY_FORMAT). */
export const COMMIT_MARKER = '\x01plumbline-commit\x02';
export const HISTORY_FORMAT = `--format=${COMMIT_MARKER}%H%x02%an%x02%ae%x02%aI`;

const NL = 0x0a;

/** Parses a unified diff with -U0 (context lines are tolerated and skipped). */
export async function* addedFragments(stream: Readable): AsyncGenerator<AddedFragment> {
  let commit: CommitInfo | undefined;
  let path: string | undefined;
  let inHunk = false;
  let newLine = 0;
  let parts: Buffer[] = [];
  let numbers: number[] = [];
  let carry: Buffer | undefined;

  const flush = (): AddedFragment | undefined => {
    if (path === undefined || parts.length === 0) {
      parts = [];
      numbers = [];
      return undefined;
    }
    const joined: Buffer[] = [];
    for (let i = 0; i < parts.length; i++) {
      if (i > 0) joined.push(NEWLINE);
      joined.push(parts[i] as Buffer);
    }
    const fragment: AddedFragment = {
      path,
      commit,
      text: Buffer.concat(joined),
      lines: Int32Array.from(numbers),
    };
    parts = [];
    numbers = [];
    return fragment;
  };

  const handleLine = (line: Buffer): AddedFragment | undefined => {
    const first = line[0];
    if (inHunk) {
      if (first === 0x2b /* + */) {
        // Copy: the chunk this line lives in is reused by the stream.
        parts.push(Buffer.from(line.subarray(1, stripCr(line))));
        numbers.push(newLine++);
        return undefined;
      }
      if (first === 0x20 /* context */) {
        newLine++;
        return undefined;
      }
      if (first === 0x2d /* - */ || first === 0x5c /* \ No newline */) return undefined;
      if (first === 0x40 /* @@ */) return startHunk(line);
      inHunk = false; // a header line of the next file or commit
    }
    const text = line.toString('utf8');
    if (text.startsWith(COMMIT_MARKER)) {
      const done = flush();
      const [sha = '', author = '', email = '', date = ''] = text.slice(COMMIT_MARKER.length).split('\x02');
      commit = { sha, author, email, date };
      path = undefined;
      return done;
    }
    if (text.startsWith('diff --git ')) {
      const done = flush();
      path = undefined;
      return done;
    }
    if (text.startsWith('+++ ')) {
      const target = unquote(text.slice(4).replace(/\t$/, ''));
      path = target === '/dev/null' ? undefined : target.replace(/^b\//, '');
      return undefined;
    }
    if (first === 0x40 && path !== undefined) return startHunk(line);
    return undefined;
  };

  const startHunk = (line: Buffer): undefined => {
    const m = /^@@@? -[\d,]+ (?:-[\d,]+ )?\+(\d+)/.exec(
      line.toString('latin1', 0, Math.min(line.length, 200)),
    );
    if (m !== null) {
      newLine = Number(m[1]);
      inHunk = true;
    }
    return undefined;
  };

  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let data = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
    carry = undefined;
    let start = 0;
    for (let nl = data.indexOf(NL, start); nl !== -1; nl = data.indexOf(NL, start)) {
      const done = handleLine(data.subarray(start, nl));
      if (done !== undefined) yield done;
      start = nl + 1;
    }
    if (start < data.length) carry = Buffer.from(data.subarray(start));
    data = Buffer.alloc(0);
  }
  if (carry !== undefined) {
    const done = handleLine(carry);
    if (done !== undefined) yield done;
  }
  const last = flush();
  if (last !== undefined) yield last;
}

const NEWLINE = Buffer.from('\n');

function stripCr(line: Buffer): number {
  return line.length > 1 && line[line.length - 1] === 0x0d ? line.length - 1 : line.length;
}

/** Undoes git's C-style quoting of unusual paths: `"b/t\303\244st.txt"`. */
export function unquote(path: string): string {
  if (!path.startsWith('"') || !path.endsWith('"')) return path;
  const bytes: number[] = [];
  const body = path.slice(1, -1);
  const escapes: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== '\\') {
      for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
      continue;
    }
    const next = body[i + 1] ?? '';
    if (/[0-7]/.test(next)) {
      bytes.push(Number.parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(escapes[next] ?? next.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
