import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type AddedFragment, addedFragments, COMMIT_MARKER, unquote } from './patch.js';

async function collect(text: string, chunk = 7): Promise<AddedFragment[]> {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) chunks.push(bytes.subarray(i, i + chunk));
  const out: AddedFragment[] = [];
  for await (const f of addedFragments(Readable.from(chunks))) out.push(f);
  return out;
}

const LOG = `${COMMIT_MARKER}abc123\x02Ada\x02ada@example.com\x022024-01-02T03:04:05+00:00

diff --git a/a.txt b/a.txt
index 1..2 100644
--- a/a.txt
+++ b/a.txt
@@ -1,0 +2,2 @@
+second
++++plus
@@ -9 +11 @@
-old
+eleventh\r
diff --git a/gone.txt b/gone.txt
deleted file mode 100644
--- a/gone.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
diff --git "a/t\\303\\244st.txt" "b/t\\303\\244st.txt"
--- /dev/null
+++ "b/t\\303\\244st.txt"
@@ -0,0 +1 @@
+hello
Binary files a/x.png and b/x.png differ
${COMMIT_MARKER}def456\x02Bo\x02bo@example.com\x022024-01-01T00:00:00+00:00

diff --git a/b.txt b/b.txt
--- a/b.txt
+++ b/b.txt
@@ -0,0 +1 @@
+in b`;

describe('addedFragments', () => {
  it('yields added lines per file and commit with their new line numbers, across any chunking', async () => {
    for (const chunk of [1, 3, 7, 64, 100000]) {
      const fragments = await collect(LOG, chunk);
      expect(fragments.map((f) => [f.commit?.sha, f.path, f.text.toString(), [...f.lines]])).toEqual([
        ['abc123', 'a.txt', 'second\n+++plus\neleventh', [2, 3, 11]],
        ['abc123', 'täst.txt', 'hello', [1]],
        ['def456', 'b.txt', 'in b', [1]],
      ]);
    }
  });

  it('keeps the author and date', async () => {
    const [first] = await collect(LOG);
    expect(first?.commit).toEqual({
      sha: 'abc123',
      author: 'Ada',
      email: 'ada@example.com',
      date: '2024-01-02T03:04:05+00:00',
    });
  });
});

describe('unquote', () => {
  it('decodes C-style escapes into UTF-8', () => {
    expect(unquote('"b/t\\303\\244st \\"q\\".txt"')).toBe('b/täst "q".txt');
    expect(unquote('plain.txt')).toBe('plain.txt');
  });
});
