import { describe, expect, it } from 'vitest';
import type { Finding } from '../findings/model.js';
import {
  cleanReport,
  criticalFinding,
  FAILING,
  HOSTILE_MESSAGE,
  hostileFinding,
  lowFinding,
  makeReport,
} from './fixtures.test-helper.js';
import { junitReporter, stripIllegalXml, xmlAttribute } from './junit.js';

interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_][\w.-]*/;
const ILLEGAL = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;

/** Resolves the five predefined entities and character references; throws on anything else. */
function decode(raw: string, where: string): string {
  if (raw.includes('<')) throw new Error(`raw < in ${where}`);
  return raw.replace(/&([^;]*);?/g, (match, body: string) => {
    if (!match.endsWith(';')) throw new Error(`unterminated reference in ${where}`);
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    const value = named[body];
    if (value !== undefined) return value;
    const numeric = /^#(?:x([0-9a-fA-F]+)|(\d+))$/.exec(body);
    if (numeric === null) throw new Error(`bad reference &${body}; in ${where}`);
    const char = String.fromCodePoint(Number.parseInt(numeric[1] ?? numeric[2] ?? '', numeric[1] ? 16 : 10));
    if (ILLEGAL.test(char)) throw new Error(`reference to an illegal character in ${where}`);
    return char;
  });
}

/**
 * A strict little XML 1.0 well-formedness checker (enough for JUnit: declaration, elements, attributes,
 * character data, comments) that returns the element tree. Throws on the first violation.
 */
function parseXml(xml: string): XmlElement {
  if (ILLEGAL.test(xml)) throw new Error('character not allowed in XML 1.0');
  let rest = xml.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>/, '');
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (rest.length > 0) {
    const lt = rest.indexOf('<');
    const text = lt < 0 ? rest : rest.slice(0, lt);
    if (text.includes(']]>')) throw new Error(']]> in character data');
    const parent = stack.at(-1);
    if (parent === undefined) {
      if (text.trim() !== '') throw new Error(`text outside the root: ${text.slice(0, 20)}`);
    } else {
      parent.text += decode(text, `<${parent.name}>`);
    }
    if (lt < 0) break;
    rest = rest.slice(lt);
    if (rest.startsWith('<!--')) {
      const end = rest.indexOf('-->');
      if (end < 0 || rest.slice(4, end).includes('--')) throw new Error('bad comment');
      rest = rest.slice(end + 3);
    } else if (rest.startsWith('</')) {
      const match = /^<\/([A-Za-z_][\w.-]*)\s*>/.exec(rest);
      const open = stack.pop();
      if (match === null || open?.name !== match[1])
        throw new Error(`mismatched end tag ${rest.slice(0, 30)}`);
      rest = rest.slice(match[0].length);
    } else {
      rest = rest.slice(1);
      const name = NAME.exec(rest)?.[0];
      if (name === undefined) throw new Error(`bad tag at ${rest.slice(0, 20)}`);
      rest = rest.slice(name.length);
      const attrs: Record<string, string> = {};
      for (;;) {
        const attr = /^\s+([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(rest);
        if (attr === null) break;
        const [whole, key = '', double, single] = attr;
        if (key in attrs) throw new Error(`duplicate attribute ${key}`);
        attrs[key] = decode(double ?? single ?? '', `${name}@${key}`);
        rest = rest.slice(whole.length);
      }
      const close = /^\s*(\/?)>/.exec(rest);
      if (close === null) throw new Error(`bad tag end in <${name}> at ${rest.slice(0, 20)}`);
      rest = rest.slice(close[0].length);
      const element: XmlElement = { name, attrs, children: [], text: '' };
      const parentElement = stack.at(-1);
      if (parentElement !== undefined) parentElement.children.push(element);
      else if (root === undefined) root = element;
      else throw new Error('second root element');
      if (close[1] !== '/') stack.push(element);
    }
  }
  if (stack.length > 0 || root === undefined) throw new Error('unclosed elements or no root');
  return root;
}

function all(element: XmlElement, name: string): XmlElement[] {
  return [
    ...(element.name === name ? [element] : []),
    ...element.children.flatMap((child) => all(child, name)),
  ];
}

function render(report = makeReport()): string {
  return junitReporter.render(report, { color: false });
}

describe('the test XML checker', () => {
  it('rejects what is not well-formed', () => {
    expect(() => parseXml('<a><b></a></b>')).toThrow();
    expect(() => parseXml('<a>x & y</a>')).toThrow();
    expect(() => parseXml('<a b="<"/>')).toThrow();
    expect(() => parseXml('<a>\u001b</a>')).toThrow();
    expect(() => parseXml('<a/><b/>')).toThrow();
    expect(parseXml('<a x="&#10;&amp;">t&lt;</a>')).toMatchObject({ attrs: { x: '\n&' }, text: 't<' });
  });
});

describe('junitReporter', () => {
  it('is well-formed XML with a declaration', () => {
    const xml = render();
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')).toBe(true);
    expect(() => parseXml(xml)).not.toThrow();
  });

  it('has one suite per analyzer that ran, none of them empty', () => {
    const root = parseXml(render());
    expect(root.name).toBe('testsuites');
    const suites = all(root, 'testsuite');
    expect(suites.map((suite) => suite.attrs.name)).toEqual(['secrets', 'deps']);
    for (const suite of suites) expect(all(suite, 'testcase').length).toBeGreaterThan(0);
    const [deps] = all(suites[1] as XmlElement, 'testcase');
    expect(deps?.attrs).toMatchObject({ name: 'no new findings', classname: 'deps' });
    expect(deps?.children).toEqual([]);
  });

  it('has one test case per new finding and fails exactly those that count against the gate', () => {
    const root = parseXml(render());
    const [secrets] = all(root, 'testsuite');
    const cases = all(secrets as XmlElement, 'testcase');
    expect(cases).toHaveLength(5);
    const failed = cases.filter((testCase) => all(testCase, 'failure').length > 0);
    expect(failed).toHaveLength(FAILING.length);
    expect(root.attrs).toMatchObject({ tests: '6', failures: String(FAILING.length), errors: '0' });
    expect(secrets?.attrs).toMatchObject({ tests: '5', failures: String(FAILING.length) });
    expect(all(root, 'failure')).toHaveLength(FAILING.length);
  });

  it('names test cases `ruleId path:line` with the analyzer as classname', () => {
    const cases = all(parseXml(render()), 'testcase');
    const pat = cases.find(
      (testCase) => testCase.attrs.name === 'github-pat-classic src/config/settings.ts:12',
    );
    expect(pat?.attrs).toMatchObject({ classname: 'secrets', file: 'src/config/settings.ts' });
    const [failure] = all(pat as XmlElement, 'failure');
    expect(failure?.attrs).toMatchObject({ message: criticalFinding.message, type: 'critical' });
    expect(failure?.text).toContain("12 | const token = 'ghp_");
    expect(
      cases.some((testCase) => testCase.attrs.name === 'stripe-secret-key src/payments.ts:5 @a1b2c3d'),
    ).toBe(true);
  });

  it('passes new findings below the threshold, keeping their details in system-out', () => {
    const cases = all(parseXml(render()), 'testcase');
    const jwt = cases.find((testCase) => testCase.attrs.name === 'jwt test/fixtures/token.txt:1');
    expect(all(jwt as XmlElement, 'failure')).toEqual([]);
    expect(all(jwt as XmlElement, 'system-out')[0]?.text).toContain('Below the gate (high).');
  });

  it('does not turn suppressed or unchanged findings into test cases, but counts them', () => {
    const root = parseXml(render());
    const names = all(root, 'testcase').map((testCase) => testCase.attrs.name ?? '');
    for (const rule of ['slack-webhook', 'private-key', 'aws-secret-access-key']) {
      expect(names.some((name) => name.startsWith(rule))).toBe(false);
    }
    const properties = all(all(root, 'testsuite')[0] as XmlElement, 'property');
    const value = (name: string) => properties.find((property) => property.attrs.name === name)?.attrs.value;
    expect(value('suppressed')).toBe('2');
    expect(value('unchanged')).toBe('1');
  });

  it('escapes hostile content and strips characters XML 1.0 forbids', () => {
    const xml = render();
    expect(xml).not.toContain('<script');
    const failure = all(parseXml(xml), 'failure').find((element) => element.attrs.type === 'high');
    expect(failure?.attrs.message).toBe(HOSTILE_MESSAGE.replace('\u001b', ''));
    const hostileCase = all(parseXml(xml), 'testcase').find(
      (testCase) => testCase.attrs.file === hostileFinding.location.path,
    );
    expect(hostileCase?.attrs.name).toBe('aws-access-key-id deploy/run|me <v2>.sh:3');
  });

  it('keeps line breaks in attributes and drops lone surrogates and U+FFFF', () => {
    expect(xmlAttribute('a\nb\t"c"')).toBe('a&#10;b&#9;&quot;c&quot;');
    expect(stripIllegalXml('ok\ud800\uffff\u0000😀')).toBe('ok😀');
  });

  it('gives repeated names a column and then a counter', () => {
    const twin: Finding = {
      ...lowFinding,
      fingerprint: 'fp-twin',
      location: { ...lowFinding.location, startColumn: 30 },
    };
    const triplet: Finding = { ...twin, fingerprint: 'fp-triplet' };
    const names = all(
      parseXml(render(makeReport({ findings: [lowFinding, twin, triplet] }))),
      'testcase',
    ).map((testCase) => testCase.attrs.name);
    expect(names).toEqual([
      'jwt test/fixtures/token.txt:1:1',
      'jwt test/fixtures/token.txt:1:30',
      'jwt test/fixtures/token.txt:1:30 (2)',
      'no new findings',
    ]);
  });

  it('renders a clean run as passing suites', () => {
    const root = parseXml(render(cleanReport()));
    expect(root.attrs).toMatchObject({ tests: '2', failures: '0' });
    expect(all(root, 'testcase').map((testCase) => testCase.attrs.name)).toEqual([
      'no new findings',
      'no new findings',
    ]);
  });
});
