// Case-insensitive multi-keyword search (Aho–Corasick compiled to a DFA over byte classes). This is the
// scanner's hot loop: it decides, in one pass over a file, which rules need to run and where.

export interface KeywordHit {
  /** Index into the keyword list given to `buildKeywordMatcher`. */
  readonly keyword: number;
  /** Offset just past the keyword's last byte. */
  readonly end: number;
}

export interface KeywordMatcher {
  readonly keywords: readonly string[];
  /** Calls `onHit(keywordIndex, endOffset)` for every occurrence, in order of end offset. */
  scan(bytes: Uint8Array, onHit: (keyword: number, end: number) => void): void;
}

export function buildKeywordMatcher(keywords: readonly string[]): KeywordMatcher {
  const lowered = keywords.map((k) => k.toLowerCase());
  for (const k of lowered) {
    if (k.length === 0) throw new Error('empty keyword');
    for (let i = 0; i < k.length; i++) {
      if (k.charCodeAt(i) > 0x7f) throw new Error(`keyword ${JSON.stringify(k)} is not ASCII`);
    }
  }

  // Byte classes: one per distinct keyword character, upper case folded onto lower; class 0 is "other".
  const classOf = new Uint8Array(256);
  let classes = 1;
  for (const k of lowered) {
    for (let i = 0; i < k.length; i++) {
      const c = k.charCodeAt(i);
      if (classOf[c] === 0) classOf[c] = classes++;
    }
  }
  for (let c = 0x41; c <= 0x5a; c++) classOf[c] = classOf[c + 0x20] ?? 0;
  if (classes > 255) throw new Error('too many distinct keyword characters');

  // Trie.
  const goto: number[][] = [new Array<number>(classes).fill(-1)];
  const outputs: number[][] = [[]];
  lowered.forEach((k, index) => {
    let state = 0;
    for (let i = 0; i < k.length; i++) {
      const cls = classOf[k.charCodeAt(i)] ?? 0;
      const row = goto[state] as number[];
      let next = row[cls] as number;
      if (next === -1) {
        next = goto.length;
        goto.push(new Array<number>(classes).fill(-1));
        outputs.push([]);
        row[cls] = next;
      }
      state = next;
    }
    (outputs[state] as number[]).push(index);
  });

  // Failure links, breadth first, folded into a complete DFA.
  const states = goto.length;
  const delta = new Int32Array(states * classes);
  const fail = new Int32Array(states);
  const queue: number[] = [];
  const root = goto[0] as number[];
  for (let cls = 0; cls < classes; cls++) {
    const next = root[cls] as number;
    if (next === -1) {
      delta[cls] = 0;
    } else {
      delta[cls] = next;
      fail[next] = 0;
      queue.push(next);
    }
  }
  for (let head = 0; head < queue.length; head++) {
    const state = queue[head] as number;
    const out = outputs[state] as number[];
    for (const k of outputs[fail[state] as number] as number[]) out.push(k);
    const row = goto[state] as number[];
    for (let cls = 0; cls < classes; cls++) {
      const next = row[cls] as number;
      if (next === -1) {
        delta[state * classes + cls] = delta[(fail[state] as number) * classes + cls] as number;
      } else {
        delta[state * classes + cls] = next;
        fail[next] = delta[(fail[state] as number) * classes + cls] as number;
        queue.push(next);
      }
    }
  }

  // Flatten outputs: `hasOutput` for the hot loop, then a CSR list.
  const hasOutput = new Uint8Array(states);
  const outStart = new Int32Array(states + 1);
  const outList: number[] = [];
  for (let s = 0; s < states; s++) {
    outStart[s] = outList.length;
    const out = outputs[s] as number[];
    if (out.length > 0) hasOutput[s] = 1;
    for (const k of out) outList.push(k);
  }
  outStart[states] = outList.length;
  const outFlat = Int32Array.from(outList);

  return {
    keywords: lowered,
    scan(bytes, onHit) {
      let state = 0;
      const n = bytes.length;
      for (let i = 0; i < n; i++) {
        state = delta[state * classes + (classOf[bytes[i] as number] as number)] as number;
        if (hasOutput[state] === 1) {
          const end = outStart[state + 1] as number;
          for (let j = outStart[state] as number; j < end; j++) onHit(outFlat[j] as number, i + 1);
        }
      }
    },
  };
}
