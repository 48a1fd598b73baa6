// `plumbline secrets …` end to end through the built CLI (npm run build first): keygen, encrypt, decrypt,
// edit with a real $EDITOR process, .sops.yaml recipients, refusals of tampered input, and a planted secret
// that must never reach stderr.
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plumbline, ROOT, type TempDir, tempDir } from './helpers/repo.js';

const PLANTED = `Pl4nted-${randomBytes(8).toString('hex')}`;
let dir: TempDir;
let recipient: string;
let key: string;

function run(args: string[], env: Record<string, string> = {}) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return plumbline(args, { cwd: dir.path });
  } finally {
    process.env = saved;
  }
}

beforeAll(() => {
  dir = tempDir('plumbline-secrets-e2e-');
  key = join(dir.path, 'keys.txt');
  const r = run(['secrets', 'keygen', '--output', key]);
  expect(r.status).toBe(0);
  recipient = r.stdout.trim();
});
afterAll(() => dir.remove());

describe('plumbline secrets', () => {
  it('keygen writes a 0600 identity file with the public key comment, and refuses to overwrite it', () => {
    expect(recipient).toMatch(/^age1[0-9a-z]{58}$/);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(readFileSync(key, 'utf8')).toMatch(
      new RegExp(`^# created: .*\\n# public key: ${recipient}\\nAGE-SECRET-KEY-1`),
    );
    const again = run(['secrets', 'keygen', '--output', key]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/exists/);
    const toStdout = run(['secrets', 'keygen']);
    expect(toStdout.stdout).toMatch(/^# created: /);
    expect(toStdout.stderr).toMatch(/^Public key: age1/);
  });

  it('encrypts and decrypts YAML, JSON and dotenv, with the identity from a flag or the SOPS variables', () => {
    dir.write({
      'a.yaml': `password: ${PLANTED}\nport: 8080\n`,
      'a.json': `{"password": "${PLANTED}"}\n`,
      'a.env': `PASSWORD=${PLANTED}\n`,
    });
    for (const name of ['a.yaml', 'a.json', 'a.env']) {
      const enc = `enc-${name}`;
      const r = run(['secrets', 'encrypt', name, '--age', recipient, '--output', enc]);
      expect(r.status, r.stderr).toBe(0);
      expect(readFileSync(join(dir.path, enc), 'utf8')).not.toContain(PLANTED);
      const back = run(['secrets', 'decrypt', enc, '--identity', key, '--format', name.split('.')[1] ?? '']);
      expect(back.status, back.stderr).toBe(0);
      expect(back.stdout).toContain(PLANTED);
      expect(back.stderr).not.toContain(PLANTED);
    }
    expect(
      run(['secrets', 'decrypt', 'enc-a.yaml', '--format', 'yaml'], { SOPS_AGE_KEY_FILE: key }).stdout,
    ).toContain(PLANTED);
    const keyText = readFileSync(key, 'utf8');
    expect(
      run(['secrets', 'decrypt', 'enc-a.yaml', '--format', 'yaml', '--extract', 'port'], {
        SOPS_AGE_KEY: keyText,
      }).stdout,
    ).toBe('8080');
    const out = run([
      'secrets',
      'decrypt',
      'enc-a.yaml',
      '--format',
      'yaml',
      '--identity',
      key,
      '--output',
      'plain.yaml',
    ]);
    expect(out.status).toBe(0);
    expect(statSync(join(dir.path, 'plain.yaml')).mode & 0o777).toBe(0o600);
  });

  it('takes recipients from .sops.yaml and encrypts in place', () => {
    dir.write({
      '.sops.yaml': `creation_rules:\n  - path_regex: ^k8s/\n    encrypted_regex: ^data$\n    age: ${recipient}\n`,
      'k8s/s.yaml': `name: web\ndata: ${PLANTED}\n`,
    });
    const r = run(['secrets', 'encrypt', 'k8s/s.yaml', '--in-place']);
    expect(r.status, r.stderr).toBe(0);
    const text = readFileSync(join(dir.path, 'k8s/s.yaml'), 'utf8');
    expect(text).toContain('name: web');
    expect(text).toContain('encrypted_regex: ^data$');
    expect(text).not.toContain(PLANTED);
    expect(run(['secrets', 'encrypt', 'k8s/s.yaml', '--in-place']).stderr).toMatch(/already encrypted/);
  });

  it('refuses a tampered file with exit code 2, naming it, and shows no secret', () => {
    dir.write({ 't.yaml': `user_unencrypted: admin\npassword: ${PLANTED}\n` });
    expect(run(['secrets', 'encrypt', 't.yaml', '--age', recipient, '-i']).status).toBe(0);
    const file = join(dir.path, 't.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('admin', 'root'));
    const r = run(['secrets', 'decrypt', 't.yaml', '--identity', key]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^plumbline: t\.yaml: MAC mismatch: the file was changed after it was encrypted/,
    );
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(`${r.stdout}${r.stderr}`).not.toContain(PLANTED);
  });

  it('explains usage mistakes: no recipients, both outputs, a secret key given as recipient, no identity', () => {
    dir.write({ 'u.yaml': 'a: b\n' });
    expect(run(['secrets', 'encrypt', 'u.yaml']).stderr).toMatch(/no age recipients/);
    expect(run(['secrets', 'encrypt', 'u.yaml', '--age', recipient, '-i', '-o', 'x']).stderr).toMatch(
      /do not go together/,
    );
    const secretKey = readFileSync(key, 'utf8').split('\n')[2] ?? '';
    const r = run(['secrets', 'encrypt', 'u.yaml', '--age', secretKey]);
    expect(r.status).toBe(2);
    expect(r.stderr).not.toContain(secretKey);
    expect(
      run(['secrets', 'decrypt', 'enc-a.yaml'], {
        HOME: dir.path,
        XDG_CONFIG_HOME: '',
        SOPS_AGE_KEY_FILE: '',
        SOPS_AGE_KEY: '',
      }).stderr,
    ).toMatch(/no age identity/);
    expect(run(['secrets', 'decrypt', 'missing.yaml', '--identity', key]).stderr).toMatch(
      /missing\.yaml does not exist/,
    );
  });

  it('decrypts a file the sops CLI wrote (Flux test data, see src/sops/__fixtures__)', () => {
    const fixture = join(ROOT, 'src/sops/__fixtures__/flux/remote.env');
    // The Flux test identity (public, Apache-2.0), as in src/sops/interop.test.ts.
    const flux = 'AGE-SECRET-KEY-1RH87A5Z54ZGUR9S0AS3R6WHFSEFNPLYMAKF5Z2CEU7R06VRJ0A3Q7242AM';
    const r = run(['secrets', 'decrypt', fixture], { SOPS_AGE_KEY: flux });
    expect(r.stdout).toBe('key=value\n');
  });

  describe('edit', () => {
    // The editor is a real process, run without a shell: a small Node script that edits the file it is given.
    const editor = (script: string): string => {
      const file = join(dir.path, `editor-${randomBytes(4).toString('hex')}.mjs`);
      writeFileSync(
        file,
        `import { readFileSync, writeFileSync, appendFileSync } from 'node:fs';\nconst f = process.argv[2];\nappendFileSync(${JSON.stringify(join(dir.path, 'editor.log'))}, f + '\\n');\n${script}\n`,
      );
      return `"${process.execPath}" "${file}"`;
    };

    it('re-encrypts what was changed, keeps the rest byte for byte, and wipes the temporary file', () => {
      dir.write({ 'e.yaml': `a: one\nb: ${PLANTED}\n` });
      expect(run(['secrets', 'encrypt', 'e.yaml', '--age', recipient, '-i']).status).toBe(0);
      const before = readFileSync(join(dir.path, 'e.yaml'), 'utf8');
      const r = run(['secrets', 'edit', 'e.yaml', '--identity', key], {
        EDITOR: editor("writeFileSync(f, readFileSync(f, 'utf8').replace('one', 'two'));"),
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/encrypted e\.yaml/);
      const after = readFileSync(join(dir.path, 'e.yaml'), 'utf8');
      const bLine = (t: string): string | undefined => t.split('\n').find((l) => l.startsWith('b: '));
      expect(bLine(after)).toBe(bLine(before));
      expect(run(['secrets', 'decrypt', 'e.yaml', '--identity', key]).stdout).toBe(`a: two\nb: ${PLANTED}\n`);
      const temp = readFileSync(join(dir.path, 'editor.log'), 'utf8').trim().split('\n').at(-1) ?? '';
      expect(() => statSync(temp)).toThrow();
    });

    it('leaves the file alone when nothing changed or the editor fails', () => {
      const before = readFileSync(join(dir.path, 'e.yaml'), 'utf8');
      const same = run(['secrets', 'edit', 'e.yaml', '--identity', key], { EDITOR: editor('') });
      expect(same.stderr).toMatch(/no changes/);
      const failed = run(['secrets', 'edit', 'e.yaml', '--identity', key], {
        EDITOR: editor("writeFileSync(f, 'x: y\\n'); process.exit(3);"),
      });
      expect(failed.status).toBe(2);
      expect(failed.stderr).toMatch(/exited with code 3/);
      const broken = run(['secrets', 'edit', 'e.yaml', '--identity', key], {
        EDITOR: editor("writeFileSync(f, 'a: [\\n');"),
      });
      expect(broken.status).toBe(2);
      expect(broken.stderr).toMatch(/YAML syntax error/);
      expect(readFileSync(join(dir.path, 'e.yaml'), 'utf8')).toBe(before);
    });

    it('creates a new file for the given recipients', () => {
      const r = run(['secrets', 'edit', 'new.env', '--age', recipient], {
        EDITOR: editor(`writeFileSync(f, 'TOKEN=${PLANTED}\\n');`),
      });
      expect(r.status, r.stderr).toBe(0);
      expect(readFileSync(join(dir.path, 'new.env'), 'utf8')).toMatch(/^TOKEN=ENC\[/);
      expect(run(['secrets', 'decrypt', 'new.env', '--identity', key]).stdout).toBe(`TOKEN=${PLANTED}\n`);
    });
  });

  it('has help with examples on each command', () => {
    for (const cmd of ['keygen', 'encrypt', 'decrypt', 'edit']) {
      const r = run(['secrets', cmd, '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Examples:\n {2}.*plumbline secrets/);
    }
  });
});
