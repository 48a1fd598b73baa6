// Precision filters for generic credentials ("a password, secret, token or key assigned a literal").
// Regex scanners are weakest here; each filter below removes one family of false positives that real
// code is full of. Pure functions: tested case by case in generic.test.ts and by the labelled corpus.
import { shannonEntropy } from './entropy.js';

export interface GenericContext {
  readonly path: string;
  /** The text from the start of the match to the value: `DB_PASSWORD = "`, `"token": '`. */
  readonly assignment: string;
  readonly value: string;
  /** The value was written between quotes. */
  readonly quoted: boolean;
  /** Up to 80 characters after the value, to see what the statement goes on with. */
  readonly after: string;
}

export interface GenericVerdict {
  readonly secret: boolean;
  /** Why it is not a secret, or why confidence is low; for debugging and tests. */
  readonly reason: string;
  readonly lowConfidence: boolean;
}

const CODE_EXTENSIONS = new Set([
  'js', 'mjs', 'cjs', 'jsx', 'ts', 'mts', 'cts', 'tsx', 'py', 'go', 'rb', 'java', 'kt', 'kts', 'scala', 'cs',
  'php', 'rs', 'swift', 'c', 'h', 'cc', 'cpp', 'hpp', 'm', 'dart', 'lua', 'pl', 'r', 'ex', 'exs', 'erl',
  'clj', 'groovy', 'vue', 'svelte',
]); // biome-ignore format: a list

const FIXTURE_PATH =
  /(^|\/)(tests?|__tests__|__mocks__|spec|specs|fixtures?|examples?|samples?|mocks?|testdata|test-data|stubs?|demo)(\/|$)/i;
const FIXTURE_FILE =
  /(^|[._-])(tests?|spec|mock|fake|dummy|example|sample|fixture)s?([._-]|$)|\.(example|sample|template|tmpl|dist|tpl)$/i;
const DOC_FILE = /\.(md|markdown|rst|adoc|txt|html?)$/i;
/** Generated lock files: hashes under package or message names. */
const LOCK_FILE = /(\.lock|-lock\.json|-lock\.ya?ml|\.sum|shrinkwrap\.json)$/i;

/** Credential words an identifier may end with (after splitting camelCase, snake_case, kebab-case, dots). */
const CREDENTIAL_WORDS = new Set([
  'password', 'passwd', 'pwd', 'pass', 'passphrase', 'passcode', 'secret', 'token', 'credential',
  'credentials', 'apikey', 'pat',
]); // biome-ignore format: a list
/** A final `key` is a credential only after one of these. */
const KEY_QUALIFIERS = new Set([
  'api', 'access', 'secret', 'private', 'auth', 'signing', 'encryption', 'master', 'client', 'app',
  'service', 'admin', 'license', 'account', 'subscription', 'webhook', 'hmac', 'jwt', 'session', 'crypt',
  'preshared', 'shared',
]); // biome-ignore format: a list
/** Words that, at the end of an identifier, say it names something about a credential, not the credential. */
const NOT_A_CREDENTIAL_TAIL = new Set([
  'id', 'ids', 'uuid', 'name', 'names', 'type', 'types', 'url', 'uri', 'endpoint', 'path', 'file', 'dir',
  'field', 'label', 'prompt', 'placeholder', 'hint', 'message', 'msg', 'text', 'title', 'error', 'errors',
  'regex', 'pattern', 'format', 'policy', 'length', 'len', 'size', 'min', 'max', 'count', 'hash', 'sha',
  'digest', 'checksum', 'header', 'prefix', 'suffix', 'expiry', 'expires', 'expiration', 'ttl', 'timeout',
  'mode', 'version', 'env', 'var', 'variable', 'ref', 'location', 'param', 'parameter', 'column', 'kind',
  'validator', 'rule', 'rules', 'input', 'selector', 'class', 'style', 'icon', 'key',
]); // biome-ignore format: a list

/** Words that, anywhere before the tail, say the value is about a credential: `checksum/secret`, `existingSecret`. */
const NOT_A_CREDENTIAL_HEAD = new Set(['checksum', 'hash', 'digest', 'fingerprint', 'existing']);

const PLACEHOLDER_WORDS = [
  'changeme', 'change_me', 'change-me', 'changethis', 'replaceme', 'replace_me', 'your_', 'your-', 'yourpassword',
  'yoursecret', 'yourtoken', 'placeholder', 'example', 'sample', 'dummy', 'redacted', 'notreal', 'not_real',
  'not-a-real', 'fake', 'foobar', 'xxxx', '****', '....', '<', '>', 'todo', 'fixme', 'insert', 'enter_',
  'enter-', 'lorem', 'ipsum',
]; // biome-ignore format: a list

const EXACT_PLACEHOLDERS = new Set([
  'password', 'passwd', 'secret', 'token', 'none', 'null', 'nil', 'undefined', 'true', 'false', 'empty',
  'default', 'string', 'required', 'optional', 'hidden', 'masked', 'test', 'testing', 'test123', 'password123',
  'secret123', 'admin', 'root', 'guest', 'user', 'username', 'pass', 'abc123', 'qwerty', 'letmein', 'tbd',
]); // biome-ignore format: a list

const TEMPLATE = [
  /\$\{[^}]*\}/, // ${VAR}, ${{ secrets.X }}
  /^\$\{/, // ${VAR:?message with spaces}, cut at the first space
  /\{\{[^}]*\}\}/, // {{ .Values.x }}, {{ secret }}
  /\{%[^%]*%\}/, // Jinja blocks
  /<%=?[^%]*%>/, // ERB
  /#\{[^}]*\}/, // Ruby interpolation
  /%\([\w.]+\)[sd]/, // Python %-format
  /^%[sd]$/,
  /^\$[A-Z_][A-Z0-9_]*$/, // $VAR
  /^\$\([^)]*\)$/, // $(command)
  /^@@?[\w.-]+@@?$/, // @VAR@
  /^__[A-Z0-9_]+__$/, // __VAR__
  /^\{\d*\}$/, // {0}
  /^\{[\w.-]+\}$/, // {secret}
  /^\[[\w .-]+\]$/, // [secret]
]; // biome-ignore format: a list

const LOOKUP = [
  /^(process\.env|import\.meta\.env|os\.environ|os\.getenv|getenv|env\(|ENV\[|System\.getenv|Deno\.env)/,
  /^(config|settings|conf|cfg|secrets|vault|params|options|opts|props|this|self)[.[]/,
  /^(vault|secretsmanager|ssm|ref\+|op|awssm|azkv|gcpsm|sops):/,
  /^arn:aws:(secretsmanager|ssm|kms):/,
]; // biome-ignore format: a list

/** Integrity hashes (SRI, lock files), git object ids, UUIDs: they look random and are not secrets. */
const NON_SECRET_HASH = [
  /^sha(1|256|384|512)-[A-Za-z0-9+/]+=*$/,
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
]; // biome-ignore format: a list

export function judgeGenericValue(ctx: GenericContext): GenericVerdict {
  const no = (reason: string): GenericVerdict => ({ secret: false, reason, lowConfidence: false });
  const value = ctx.value.trim();
  const identifier = lastIdentifier(ctx.assignment);
  const words = splitWords(identifier);
  const tail = words[words.length - 1] ?? '';

  if (!isCredentialName(words)) return no(`identifier "${identifier}" does not name a credential`);
  if (words.slice(0, -1).some((w) => NOT_A_CREDENTIAL_HEAD.has(w)))
    return no('names something about a credential');
  if (LOCK_FILE.test(ctx.path)) return no('a generated lock file');
  if (value.length < 6) return no('too short');
  if (value.length > 200) return no('too long for a password');
  const extension = (/\.([A-Za-z0-9]+)$/.exec(ctx.path)?.[1] ?? '').toLowerCase();
  if (!ctx.quoted && CODE_EXTENSIONS.has(extension)) return no('unquoted value in code is an expression');
  if (/\s/.test(value) || /\\[nrt]/.test(value)) return no('contains white space: prose, not a credential');
  if (!ctx.quoted && /^[{[]/.test(value)) return no('a YAML or JSON collection, not a literal');
  if (/^your[A-Z_-]/.test(value)) return no('a placeholder');
  if (/^_[A-Za-z][\w-]*_[A-Za-z0-9]{5}_\d+$/.test(value)) return no('a CSS-module class name');
  const lowered = value.toLowerCase();
  if (EXACT_PLACEHOLDERS.has(lowered)) return no('a placeholder word');
  if (PLACEHOLDER_WORDS.some((w) => lowered.includes(w))) return no('a placeholder');
  if (TEMPLATE.some((re) => re.test(value))) return no('a template or variable reference');
  if (LOOKUP.some((re) => re.test(value))) return no('a lookup, not a literal');
  if (!ctx.quoted && /^[\w$.]+\(.*\)?$/.test(value)) return no('a function call');
  if (!ctx.quoted && /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$/.test(value)) return no('a reference');
  if (NON_SECRET_HASH.some((re) => re.test(value))) return no('a hash or identifier');
  if (/^ENC\[AES256_GCM,data:/.test(value)) return no('a value encrypted by SOPS');
  if (/^(https?|file|ftp):\/\//i.test(value) || /^\.{0,2}\//.test(value)) return no('a URL or path');
  if (/^[\w.+-]+@[\w-]+\.[\w.-]+$/.test(value)) return no('an e-mail address');
  if (/^\d+$/.test(value)) return no('a number');
  if (/^(.)\1+$/.test(value)) return no('one repeated character');
  if (sameWord(lowered, identifier)) return no('the value repeats the name');
  if (looksLikeWords(value)) return no('a word or words, not a credential');
  if (/[\u0080-\uffff]/.test(value) && /^\p{L}+([_.-]\p{L}+)*[?!.]?$/u.test(value))
    return no('words in another language');
  const decoded = decodeBase64Text(value);
  if (decoded !== undefined && decoded !== value) {
    const inner = judgeGenericValue({ ...ctx, value: decoded, quoted: true });
    if (!inner.secret && !/too short/.test(inner.reason))
      return no(`base64 of a non-secret: ${inner.reason}`);
  }
  const entropy = shannonEntropy(value);
  if (entropy < 2.5) return no('low entropy');
  if (/^[A-Z0-9_]+$/.test(value) && /_/.test(value) && !/\d{3,}/.test(value)) return no('a constant name');
  if (/^["'`]?\s*(==|!=)/.test(ctx.after)) return no('a comparison');
  if (FIXTURE_PATH.test(ctx.path) || FIXTURE_FILE.test(basename(ctx.path)) || DOC_FILE.test(ctx.path)) {
    return no('a test fixture, example or documentation file');
  }
  return { secret: true, reason: tail, lowConfidence: false };
}

function basename(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === -1 ? path : path.slice(slash + 1);
}

/** The identifier an assignment text starts with: `"db.password": "` → `db.password`. */
export function lastIdentifier(assignment: string): string {
  const m = /([A-Za-z0-9_.$/-]+)["'`\]]{0,2}\s*(:=|=>|\|\|=|\?\?=|[:=])/.exec(assignment);
  return m?.[1] ?? '';
}

export function splitWords(identifier: string): string[] {
  return identifier
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

function isCredentialName(words: readonly string[]): boolean {
  const last = words[words.length - 1];
  if (last === undefined) return false;
  if (last === 'base' && words[words.length - 2] === 'key') return words[words.length - 3] === 'secret'; // Rails
  if (last === 'key' || last === 'keys') {
    const before = words[words.length - 2];
    return before !== undefined && KEY_QUALIFIERS.has(before);
  }
  if (NOT_A_CREDENTIAL_TAIL.has(last)) return false;
  if (CREDENTIAL_WORDS.has(last)) return true;
  // `secretkey`, `apitoken`, `dbpassword`: a credential word glued to the end of the last word.
  return /(password|passwd|secret|token|apikey|secretkey|accesskey|privatekey)$/.test(last);
}

function sameWord(value: string, identifier: string): boolean {
  const normalise = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  const v = normalise(value);
  const id = normalise(identifier);
  return v.length > 0 && (v === id || id.endsWith(v) || v.endsWith(id));
}

/**
 * Letters only (one leading or trailing punctuation mark aside), in segments that read as words:
 * `NoLineTerminatorHere`, `?InterpolationInJSX`, `read-only`, `bearer`. Generated secrets have digits or
 * segments no word looks like.
 */
export function looksLikeWords(value: string): boolean {
  const core = value.replace(/^[?!#@:.*]/, '').replace(/[?!.:]$/, '');
  if (!/^[A-Za-z]+([_./-][A-Za-z]+)*$/.test(core)) return false;
  const segments = core
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_./-]+/);
  return segments.every(
    (w) => (/^[A-Z]?[a-z]+$/.test(w) || /^[A-Z]{1,5}$/.test(w)) && /[aeiouyAEIOUY]|^[A-Z]+$/.test(w),
  );
}

/** The text a base64 value decodes to, when it is canonical base64 of printable ASCII. */
function decodeBase64Text(value: string): string | undefined {
  if (value.length < 8 || value.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  const decoded = Buffer.from(value, 'base64').toString('latin1');
  if (Buffer.from(decoded, 'latin1').toString('base64') !== value) return undefined;
  return /^[\x20-\x7e]+$/.test(decoded) ? decoded : undefined;
}
