import { describe, expect, it } from 'vitest';
import { judgeGenericValue, lastIdentifier, looksLikeWords, splitWords } from './generic.js';

function judge(assignment: string, value: string, path = 'src/app.py', quoted = true, after = ''): boolean {
  return judgeGenericValue({ path, assignment, value, quoted, after }).secret;
}

describe('judgeGenericValue', () => {
  it('does not flag values SOPS encrypted', () => {
    const enc =
      'ENC[AES256_GCM,data:8e2Qb0p1,iv:K3vT2yQmLw9xZr7s1u4pA0bC5dE6fG7hI8jK9lM0nO1=,tag:Qm9vbGVhbg==,type:str]';
    expect(
      judgeGenericValue({
        path: 'secrets/web.sops.yaml',
        assignment: 'db_password:',
        value: enc,
        quoted: false,
        after: '',
      }).secret,
    ).toBe(false);
  });
  it('accepts real-looking credentials', () => {
    expect(judge('DB_PASSWORD = "', 'Tr0ub4dor&3x')).toBe(true);
    expect(judge('apiKey: "', 'q8Zr7Xt1Wv5Ym4Nb6Hc0')).toBe(true);
    expect(judge('client_secret=', 'aB3dE5gH7jK9mN1p', 'app.env', false)).toBe(true);
  });

  it.each([
    ['placeholder', 'password = "', 'changeme'],
    ['angle placeholder', 'password = "', '<your-password>'],
    ['template', 'password: "', '${DB_PASSWORD}'],
    ['helm', 'token: "', '{{ .Values.token }}'],
    ['python format', 'password = "', '%(password)s'],
    ['env var', 'password = "', '$DB_PASS'],
    ['prose', 'passwordHint = "', 'Enter your password'],
    ['label name', 'password_label = "', 'Password1234'],
    ['repeats the name', 'password = "', 'user_password'],
    ['a word', 'secret = "', 'notasecret'],
    ['uuid', 'api_key = "', '123e4567-e89b-12d3-a456-426614174000'],
    ['integrity', 'token = "', 'sha512-abcdefghijklmnopqrstuvwxyzABCDEFG=='],
    ['url', 'token_endpoint = "', 'https://example.com/token'],
    ['short', 'password = "', 'abc'],
    ['digits', 'pin_password = "', '12345678'],
    ['repeated', 'password = "', 'xxxxxxxxxx'],
    ['constant name', 'secret = "', 'MY_SECRET_NAME'],
    ['camel-case words', 'lastSignificantToken = "', '?NoLineTerminatorHere'],
    ['acronyms', 'token = "', 'InterpolationInJSX'],
  ])('rejects %s', (_name, assignment, value) => {
    expect(judge(assignment, value)).toBe(false);
  });

  it('rejects unquoted expressions in code but not in config files', () => {
    expect(judge('password = ', 'get_password()', 'src/app.py', false)).toBe(false);
    expect(judge('password = ', 'settings.db.password', 'src/app.env', false)).toBe(false);
    expect(judge('PASSWORD=', 'kT9#mQ2$vX7w', 'deploy/app.env', false)).toBe(true);
    expect(judge('password = ', 'kT9mQ2vX7wZz', 'src/app.go', false)).toBe(false);
  });

  it('rejects values in tests, examples and docs', () => {
    expect(judge('password = "', 'kT9#mQ2$vX7w', 'tests/test_login.py')).toBe(false);
    expect(judge('password = "', 'kT9#mQ2$vX7w', 'config/app.example.yaml')).toBe(false);
    expect(judge('password = "', 'kT9#mQ2$vX7w', 'docs/setup.md')).toBe(false);
  });

  it('rejects comparisons', () => {
    expect(judge('password = "', 'kT9#mQ2$vX7w', 'a.py', true, '" == other')).toBe(false);
    expect(judge('password = "', 'kT9#mQ2$vX7w', 'a.py', true, '";')).toBe(true);
  });
});

describe('identifiers', () => {
  it('finds the assigned name', () => {
    expect(lastIdentifier('"db.password": "')).toBe('db.password');
    expect(lastIdentifier("'password' => '")).toBe('password');
    expect(lastIdentifier('token := "')).toBe('token');
  });
  it('splits words', () => {
    expect(splitWords('dbAPIPassword')).toEqual(['db', 'api', 'password']);
    expect(splitWords('SECRET_KEY')).toEqual(['secret', 'key']);
  });
});

describe('looksLikeWords', () => {
  it('tells words from generated values', () => {
    expect(looksLikeWords('NoLineTerminatorHere')).toBe(true);
    expect(looksLikeWords('read-only')).toBe(true);
    expect(looksLikeWords('checksum/secret')).toBe(true);
    expect(looksLikeWords('kTqZrXvWpL')).toBe(false);
    expect(looksLikeWords('Tr0ub4dor')).toBe(false);
  });
});
