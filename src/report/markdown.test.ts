import { describe, expect, it } from 'vitest';
import type { Finding } from '../findings/model.js';
import { cleanReport, criticalFinding, lowFinding, makeReport } from './fixtures.test-helper.js';
import { COMMENT_MARKER, escapeMarkdown, MAX_TABLE_ROWS, markdownReporter } from './markdown.js';

function render(report = makeReport()): string {
  return markdownReporter.render(report, { color: false });
}

function tableRows(output: string): string[] {
  return output.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| ---'));
}

/** Cells as GFM splits them: on every `|` not escaped by a backslash. */
function cells(row: string): string[] {
  return row
    .split(/(?<!\\)\|/)
    .slice(1, -1)
    .map((cell) => cell.trim());
}

describe('markdownReporter', () => {
  it('titles a failing run with ❌ and the gate result', () => {
    const output = render();
    expect(output.startsWith(`${COMMENT_MARKER}\n## ❌ Plumbline: failed\n`)).toBe(true);
    expect(output).toContain('**3 findings at or above high** fail the gate.');
    expect(output).toContain(
      '5 new findings (1 critical, 2 high, 1 medium, 1 low), 2 suppressed, 1 unchanged',
    );
  });

  it('titles a passing run with ✅ and has no table', () => {
    const output = render(cleanReport());
    expect(output).toContain('## ✅ Plumbline: passed');
    expect(tableRows(output)).toEqual([]);
    expect(output).not.toContain('<details>');
  });

  it('lists new findings in a table, most severe first', () => {
    const rows = tableRows(render());
    expect(rows[0]).toBe('| Severity | Rule | Location | Message |');
    const body = rows.slice(1);
    expect(body).toHaveLength(5);
    expect(cells(body[0] ?? '')).toEqual([
      '🟣 critical',
      '<code>github-pat-classic</code>',
      '<code>src/config/settings.ts:12</code>',
      'A GitHub personal access token is assigned to &#96;token&#96;.',
    ]);
    expect(body.map((row) => cells(row)[0])).toEqual([
      '🟣 critical',
      '🔴 high',
      '🔴 high',
      '🟠 medium',
      '🟡 low',
    ]);
    expect(body.some((row) => row.includes('<code>src/payments.ts:5</code> in <code>a1b2c3d</code>'))).toBe(
      true,
    );
  });

  it('keeps every row at four cells when content holds pipes', () => {
    for (const row of tableRows(render())) expect(cells(row)).toHaveLength(4);
  });

  it('escapes hostile HTML, backticks, quotes, ampersands and control characters', () => {
    const output = render();
    expect(output).not.toContain('<script');
    expect(output).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
    expect(output).toContain('&#96;AWS&#95;KEY&#96;');
    expect(output).toContain('&amp; &#39;quoted&#39;');
    expect(output).toContain('<code>deploy/run&#124;me &lt;v2&gt;.sh:3</code>');
    expect(output).not.toContain('`');
    const controls = [...output].filter((char) => {
      const code = char.codePointAt(0) ?? 0;
      return (code < 0x20 && char !== '\n') || (code >= 0x7f && code <= 0x9f);
    });
    expect(controls).toEqual([]);
    // every `&` starts an entity
    expect(output).not.toMatch(/&(?!(?:amp|lt|gt|quot|#\d+);)/);
    // the only tags are the reporter's own
    const tags = new Set(output.match(/<[^>]*>/g));
    for (const tag of tags) {
      expect([
        '<code>',
        '</code>',
        '<details>',
        '</details>',
        '<summary>',
        '</summary>',
        '<sub>',
        '</sub>',
        COMMENT_MARKER,
      ]).toContain(tag);
    }
  });

  it('does not let a message mention people', () => {
    const output = render();
    expect(output).not.toContain('@octocat');
    expect(output).toContain('@\u200boctocat');
  });

  it('caps the table at 50 rows and says how many more there are', () => {
    const many: Finding[] = Array.from({ length: 60 }, (_, index) => ({
      ...lowFinding,
      location: { ...lowFinding.location, startLine: index + 1 },
      fingerprint: `fp-${index}`,
    }));
    const output = render(makeReport({ findings: [...many, criticalFinding] }));
    const body = tableRows(output).slice(1);
    expect(body).toHaveLength(MAX_TABLE_ROWS);
    expect(body[0]).toContain('critical');
    expect(output).toContain('…and 11 more new findings');
  });

  it('folds suppressed, unchanged and skipped entries into <details>', () => {
    const output = render();
    expect(output).toContain('<summary>2 suppressed findings</summary>');
    expect(output).toContain(
      '- <code>private-key</code> at <code>keys/dev.pem:1</code>, suppressions file: dev-only key for the local stack (expires 2030-01-01)',
    );
    expect(output).toContain(
      '- <code>slack-webhook</code> at <code>src/notify.ts:4</code>, inline: test workspace webhook, revoked',
    );
    expect(output).toContain('<summary>1 finding unchanged since the baseline</summary>');
    expect(output).toContain('<summary>6 skipped files</summary>');
    expect(output).toContain('- too-large (1): <code>data/dump.sql</code>');
    // A blank line after <summary> so GitHub renders the list.
    expect(output).toContain('</summary>\n\n- ');
  });

  it('ends with a footer naming the tool version', () => {
    expect(render().trimEnd().split('\n').at(-1)).toBe(
      '<sub>[Plumbline](https://github.com/plumbline-dev/plumbline) 0.1.0 · scanned: tree</sub>',
    );
  });

  it('escapes every Markdown-active character', () => {
    expect(escapeMarkdown('a|b`c*d_e~f[g](h)\\i<j>&"\'\nk\u0000')).toBe(
      'a&#124;b&#96;c&#42;d&#95;e&#126;f&#91;g&#93;(h)&#92;i&lt;j&gt;&amp;&quot;&#39; k\ufffd',
    );
  });
});
