// Regular expressions for CEL: RE2 syntax and linear-time matching, as Kubernetes (Go's regexp) has them, so
// a policy ported from a cluster matches the same strings and no pattern can backtrack for ever.
// `matches` uses @bufbuild/re2's compiled program; `find` and `findAll` need the position of the leftmost-
// first match, which that package's matcher does not report, so they run a small Pike VM (Thompson NFA
// simulation, leftmost-first like Go's) over the same compiled program: time O(text × program).
import { RE2JS } from '@bufbuild/re2';
import { charge } from './cost.js';

/** The parts of @bufbuild/re2's compiled program the VM reads. */
interface Inst {
  readonly op: number;
  readonly out: number;
  readonly arg: number;
  matchRune(r: number): boolean;
}
interface Prog {
  readonly start: number;
  getInst(pc: number): Inst;
  numInst(): number;
}

// Instruction codes of @bufbuild/re2's Inst (stable: they mirror Go's regexp/syntax).
const ALT = 1;
const ALT_MATCH = 2;
const CAPTURE = 3;
const EMPTY_WIDTH = 4;
const MATCH = 6;
const NOP = 7;
const RUNE = 8;
const RUNE_ANY_NOT_NL = 11;

const EMPTY_BEGIN_LINE = 0x01;
const EMPTY_END_LINE = 0x02;
const EMPTY_BEGIN_TEXT = 0x04;
const EMPTY_END_TEXT = 0x08;
const EMPTY_WORD_BOUNDARY = 0x10;
const EMPTY_NO_WORD_BOUNDARY = 0x20;

export interface CompiledRegex {
  readonly pattern: string;
  /** True when the pattern matches anywhere in the text. */
  test(text: string): boolean;
  /** The leftmost-first match at or after `from`: [start, end) in UTF-16 offsets. */
  search(text: string, from: number): [number, number] | undefined;
}

const cache = new Map<string, CompiledRegex>();
const CACHE_SIZE = 512;

/** Compiles (or takes from a small cache) an RE2 pattern; throws a readable error for bad syntax. */
export function compileRegex(pattern: string): CompiledRegex {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (error) {
    throw new Error(`invalid regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}`);
  }
  const prog = re.re2().prog as unknown as Prog;
  const size = prog.numInst();
  const compiled: CompiledRegex = {
    pattern,
    test(text) {
      charge(Math.ceil((text.length * Math.min(size, 64)) / 100));
      return re.test(text);
    },
    search(text, from) {
      charge(Math.ceil(((text.length - from) * size) / 100));
      return pikeSearch(prog, text, from);
    },
  };
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(pattern, compiled);
  return compiled;
}

export function find(text: string, pattern: string): string {
  const m = compileRegex(pattern).search(text, 0);
  return m === undefined ? '' : text.slice(m[0], m[1]);
}

export function findAll(text: string, pattern: string, limit = -1): string[] {
  const re = compileRegex(pattern);
  const out: string[] = [];
  let at = 0;
  let previousEnd = -1;
  while (at <= text.length && (limit < 0 || out.length < limit)) {
    const m = re.search(text, at);
    if (m === undefined) break;
    const [start, end] = m;
    // As Go: an empty match right after the previous match is skipped.
    if (!(start === end && start === previousEnd)) out.push(text.slice(start, end));
    previousEnd = end;
    at = end > start ? end : end + (codePointWidth(text, end) || 1);
  }
  return out;
}

function codePointWidth(text: string, at: number): number {
  if (at >= text.length) return 0;
  const c = text.codePointAt(at) as number;
  return c > 0xffff ? 2 : 1;
}

function runeAt(text: string, at: number): number {
  return at < text.length ? (text.codePointAt(at) as number) : -1;
}

function runeBefore(text: string, at: number): number {
  if (at <= 0) return -1;
  const low = text.charCodeAt(at - 1);
  if (low >= 0xdc00 && low <= 0xdfff && at >= 2) {
    const high = text.charCodeAt(at - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.codePointAt(at - 2) as number;
  }
  return low;
}

function isWordRune(r: number): boolean {
  return (r >= 0x61 && r <= 0x7a) || (r >= 0x41 && r <= 0x5a) || (r >= 0x30 && r <= 0x39) || r === 0x5f;
}

function contextAt(text: string, at: number): number {
  const before = runeBefore(text, at);
  const after = runeAt(text, at);
  let flags = 0;
  if (before < 0) flags |= EMPTY_BEGIN_TEXT | EMPTY_BEGIN_LINE;
  if (before === 0x0a) flags |= EMPTY_BEGIN_LINE;
  if (after < 0) flags |= EMPTY_END_TEXT | EMPTY_END_LINE;
  if (after === 0x0a) flags |= EMPTY_END_LINE;
  flags |= isWordRune(before) !== isWordRune(after) ? EMPTY_WORD_BOUNDARY : EMPTY_NO_WORD_BOUNDARY;
  return flags;
}

/** Threads in priority order; a pc is added at most once per step (the first, highest-priority one wins). */
class Queue {
  readonly pcs: number[] = [];
  readonly starts: number[] = [];
  private readonly seen: Uint32Array;
  private generation = 1;
  constructor(size: number) {
    this.seen = new Uint32Array(size);
  }
  clear(): void {
    this.pcs.length = 0;
    this.starts.length = 0;
    this.generation++;
  }
  mark(pc: number): boolean {
    if (this.seen[pc] === this.generation) return false;
    this.seen[pc] = this.generation;
    return true;
  }
}

function pikeSearch(prog: Prog, text: string, from: number): [number, number] | undefined {
  const n = prog.numInst();
  let current = new Queue(n);
  let next = new Queue(n);
  let matched: [number, number] | undefined;

  const add = (q: Queue, pc: number, start: number, context: number): void => {
    // An explicit stack instead of recursion: ALT chains can be long.
    const stack: number[] = [pc];
    while (stack.length > 0) {
      const at = stack.pop() as number;
      if (!q.mark(at)) continue;
      const inst = prog.getInst(at);
      switch (inst.op) {
        case ALT:
        case ALT_MATCH:
          // `out` has priority over `arg`: push arg first so out is followed first.
          stack.push(inst.arg, inst.out);
          break;
        case NOP:
        case CAPTURE:
          stack.push(inst.out);
          break;
        case EMPTY_WIDTH:
          if ((inst.arg & ~context) === 0) stack.push(inst.out);
          break;
        default:
          q.pcs.push(at);
          q.starts.push(start);
      }
    }
  };

  for (let pos = from; ; ) {
    if (matched === undefined) add(current, prog.start, pos, contextAt(text, pos));
    if (current.pcs.length === 0 && matched !== undefined) break;
    const rune = runeAt(text, pos);
    const width = rune < 0 ? 0 : rune > 0xffff ? 2 : 1;
    next.clear();
    const nextContext = rune < 0 ? 0 : contextAt(text, pos + width);
    for (let i = 0; i < current.pcs.length; i++) {
      const pc = current.pcs[i] as number;
      const start = current.starts[i] as number;
      const inst = prog.getInst(pc);
      if (inst.op === MATCH) {
        // Leftmost-first: this thread beats every lower-priority one still in the queue.
        matched = [start, pos];
        break;
      }
      if (rune >= 0 && inst.op >= RUNE && inst.op <= RUNE_ANY_NOT_NL && inst.matchRune(rune)) {
        add(next, inst.out, start, nextContext);
      }
    }
    if (rune < 0) break;
    [current, next] = [next, current];
    pos += width;
    if (current.pcs.length === 0 && matched !== undefined) break;
  }
  return matched;
}
