import { describe, expect, it } from 'vitest';
import {
  PlaceholderError,
  placeholdersIn,
  renderHeader,
  renderJsonBody,
  renderPromQL,
  renderUrl,
} from './placeholders.js';

const vars = (values: Record<string, string>) => new Map(Object.entries(values));

describe('renderPromQL', () => {
  it('substitutes variables in double-quoted, single-quoted and raw strings', () => {
    const query =
      'sum(rate(plumbline_router_errors_total{app="{{app}}",revision=\'{{ revision }}\',port=`{{port}}`}[{{interval}}]))';
    expect(renderPromQL(query, vars({ app: 'web', revision: 'abc123', port: '8080', interval: '30s' }))).toBe(
      'sum(rate(plumbline_router_errors_total{app="web",revision=\'abc123\',port=`8080`}[30s]))',
    );
  });

  it('escapes a value so it cannot end its string literal', () => {
    const evil = 'x"} or vector(1) #\\\n';
    expect(renderPromQL('up{revision="{{revision}}"}', vars({ revision: evil }))).toBe(
      'up{revision="x\\"} or vector(1) #\\\\\\n"}',
    );
    expect(renderPromQL("up{revision='{{revision}}'}", vars({ revision: 'it\'s"' }))).toBe(
      "up{revision='it\\'s\"'}",
    );
    expect(renderPromQL('up{a="{{app}}"}', vars({ app: 'tab\there\u0001' }))).toBe('up{a="tab\\there\\x01"}');
  });

  it('follows escapes and comments of the query itself', () => {
    expect(renderPromQL('up{a="say \\"{{app}}\\""}', vars({ app: 'q"' }))).toBe('up{a="say \\"q\\"\\""}');
    expect(renderPromQL('up # about {{app}}\n+ up{a="{{app}}"}', vars({ app: 'a\nb' }))).toBe(
      'up # about a b\n+ up{a="a\\nb"}',
    );
  });

  it('refuses a value that cannot be placed', () => {
    expect(() => renderPromQL('up{a=`{{app}}`}', vars({ app: 'a`b' }))).toThrow(PlaceholderError);
    expect(() => renderPromQL('up[{{interval}}]', vars({ interval: '5m] or up[1m' }))).toThrow(
      /not a plain word/,
    );
    expect(() => renderPromQL('up{a="{{stableRevision}}"}', vars({}))).toThrow(
      '{{stableRevision}} has no value',
    );
  });
});

describe('other places', () => {
  it('lists the placeholders of a text once each', () => {
    expect(placeholdersIn('{{a}} {{ args.token }} {{a}} {x}')).toEqual(['a', 'args.token']);
  });

  it('percent-encodes URL values, refuses line breaks in headers, escapes JSON bodies', () => {
    expect(renderUrl('http://h/q?rev={{revision}}', vars({ revision: 'a&b=c d' }))).toBe(
      'http://h/q?rev=a%26b%3Dc%20d',
    );
    expect(renderHeader('Bearer {{args.token}}', vars({ 'args.token': 's3cr3t' }))).toBe('Bearer s3cr3t');
    expect(() => renderHeader('{{app}}', vars({ app: 'a\r\nX-Evil: 1' }))).toThrow(/line break/);
    expect(renderJsonBody('{"revision":"{{revision}}"}', vars({ revision: 'a"b\\' }))).toBe(
      '{"revision":"a\\"b\\\\"}',
    );
  });
});
