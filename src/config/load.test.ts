import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { DEFAULT_CHECK_SPEC } from './defaults.js';
import { configJsonSchema } from './jsonschema.js';
import { loadConfig } from './load.js';
import { parseConfig } from './parse.js';
import { checkSpecSchema } from './schema.js';

function fails(text: string): ConfigError {
  try {
    parseConfig(text, 'plumbline.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies defaults when there is no Check', () => {
    const c = parseConfig('', 'plumbline.yaml');
    expect(c.check.failOn).toBe('high');
    expect(c.check.analyzers).toEqual(['secrets', 'deps', 'policy']);
    expect(c.check.maxFileSize).toBe(10 * 1024 * 1024);
  });

  it('reads a Check among several documents, with sizes in units', () => {
    const c = parseConfig(
      `---\n---\napiVersion: plumbline.dev/v1alpha1\nkind: Check\nmetadata: { name: ci }\nspec:\n  failOn: medium\n  maxFileSize: 512KiB\n  secrets:\n    allow: { stopwords: [example] }\n`,
      'plumbline.yaml',
    );
    expect(c.check.failOn).toBe('medium');
    expect(c.check.maxFileSize).toBe(512 * 1024);
    expect(c.check.secrets.allow.stopwords).toEqual(['example']);
    expect(c.documents[0]).toMatchObject({ kind: 'Check', name: 'ci', line: 3 });
  });

  it('names file, line and field', () => {
    const e = fails('apiVersion: plumbline.dev/v1alpha1\nkind: Check\nspec:\n  paths:\n    include: [1]\n');
    expect(e.message).toBe(
      'plumbline.yaml:5: spec.paths.include[0]: Invalid input: expected string, received number',
    );
    expect(e.line).toBe(5);
    expect(e.field).toBe('spec.paths.include[0]');
  });

  it('rejects two Check documents, duplicate keys and alias bombs', () => {
    const check = 'apiVersion: plumbline.dev/v1alpha1\nkind: Check\n';
    expect(fails(`${check}---\n${check}`).message).toMatch(/:4: kind: more than one Check/);
    expect(fails(`${check}kind: Check\n`).message).toMatch(/YAML syntax error/);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
      );
    expect(() => parseConfig(bomb.join('\n'), 'plumbline.yaml')).toThrow(ConfigError);
  });

  it('rejects custom rules with lookaround, and stop words that are too short', () => {
    const base = 'apiVersion: plumbline.dev/v1alpha1\nkind: Check\nspec:\n  secrets:\n';
    expect(
      fails(`${base}    rules: [{ id: x, description: y, keywords: [a], pattern: "a(?=b)" }]\n`).message,
    ).toMatch(/lookaround/);
    expect(fails(`${base}    allow: { stopwords: [ab] }\n`).message).toMatch(/too short|short/);
  });
});

describe('configJsonSchema', () => {
  it('describes the Check kind for editors', () => {
    const text = JSON.stringify(configJsonSchema());
    expect(text).toContain('plumbline.dev/v1alpha1');
    expect(text).toContain('maxFileSize');
  });
});

describe('loadConfig', () => {
  it('uses the defaults without a file, and they equal the schema defaults', async () => {
    expect(checkSpecSchema.parse({})).toEqual(DEFAULT_CHECK_SPEC);
    const c = await loadConfig('/nonexistent/plumbline.yaml');
    expect(c.file).toBeUndefined();
    expect(c.check).toEqual(DEFAULT_CHECK_SPEC);
    expect(Object.isFrozen(c.check.secrets)).toBe(true);
    await expect(loadConfig('/nonexistent/plumbline.yaml', { required: true })).rejects.toThrow(
      /does not exist/,
    );
  });
});
