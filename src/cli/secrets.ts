// `plumbline secrets`: SOPS files for age recipients: keygen, encrypt, decrypt, edit. Thin: parse flags, call
// src/sops, write files. Plaintext goes only where the user asks (stdout or a 0600 file); `edit` keeps it in a
// 0600 file in a private folder for the editor's lifetime and overwrites it before deleting it.
import { spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { InputError, UsageError } from '../errors.js';
import type { EncryptionRules, SopsFormat } from '../sops/index.js';

interface CommonOptions {
  format?: string;
}

interface EncryptFlags extends CommonOptions {
  age?: string;
  inPlace?: boolean;
  output?: string;
  unencryptedSuffix?: string;
  encryptedSuffix?: string;
  unencryptedRegex?: string;
  encryptedRegex?: string;
  macOnlyEncrypted?: boolean;
}

interface DecryptFlags extends CommonOptions {
  identity?: string;
  output?: string;
  extract?: string;
}

const MAX_INPUT_BYTES = 16 * 1024 * 1024;

function readInput(file: string): Buffer {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new InputError(`${file} is not a file`, 'give the path of a secrets file');
    size = stat.size;
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(
      `${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}`,
      'check the path',
    );
  }
  if (size > MAX_INPUT_BYTES) {
    throw new InputError(
      `${file} is ${size} bytes; the limit for a secrets file is ${MAX_INPUT_BYTES} bytes`,
      'keep secrets files small',
    );
  }
  return readFileSync(file);
}

/** Writes atomically (temp file + rename) with `mode`; a device or pipe (/dev/stdout) is written to as is. */
function writeFileAtomic(file: string, data: Buffer, mode: number): void {
  try {
    if (existsSync(file) && !statSync(file).isFile()) {
      writeFileSync(file, data);
      return;
    }
    const temp = join(dirname(file), `.${basename(file)}.plumbline-${process.pid}.tmp`);
    writeFileSync(temp, data, { mode });
    chmodSync(temp, mode);
    renameSync(temp, file);
  } catch (error) {
    throw new InputError(
      `cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function modeOf(file: string, fallback: number): number {
  try {
    return statSync(file).mode & 0o777;
  } catch {
    return fallback;
  }
}

async function formatOf(file: string, flag: string | undefined): Promise<SopsFormat> {
  const { formatForPath, parseFormat } = await import('../sops/index.js');
  return flag === undefined ? formatForPath(file) : parseFormat(flag);
}

function rulesFromFlags(flags: EncryptFlags): EncryptionRules | undefined {
  const rules: EncryptionRules = {
    ...(flags.unencryptedSuffix === undefined ? {} : { unencryptedSuffix: flags.unencryptedSuffix }),
    ...(flags.encryptedSuffix === undefined ? {} : { encryptedSuffix: flags.encryptedSuffix }),
    ...(flags.unencryptedRegex === undefined ? {} : { unencryptedRegex: flags.unencryptedRegex }),
    ...(flags.encryptedRegex === undefined ? {} : { encryptedRegex: flags.encryptedRegex }),
    ...(flags.macOnlyEncrypted === true ? { macOnlyEncrypted: true } : {}),
  };
  return Object.keys(rules).length === 0 ? undefined : rules;
}

/** Recipients and rules: --age, then $SOPS_AGE_RECIPIENTS, then the .sops.yaml creation rule for the file. */
async function recipientsFor(
  file: string,
  flags: EncryptFlags,
): Promise<{ recipients: string[]; rules: EncryptionRules; from: string }> {
  const { creationRuleFor, parseRecipients } = await import('../sops/index.js');
  const rule = creationRuleFor(file);
  const rules = rulesFromFlags(flags) ?? rule?.rules ?? {};
  if (flags.age !== undefined) return { recipients: parseRecipients(flags.age), rules, from: '--age' };
  const env = process.env.SOPS_AGE_RECIPIENTS;
  if (env !== undefined && env.trim() !== '')
    return { recipients: parseRecipients(env), rules, from: 'SOPS_AGE_RECIPIENTS' };
  if (rule !== undefined && rule.recipients.length > 0)
    return { recipients: rule.recipients, rules, from: rule.configFile };
  throw new UsageError(
    `no age recipients for ${file}`,
    'pass --age age1…, set SOPS_AGE_RECIPIENTS, or add a creation rule with age: to .sops.yaml',
  );
}

/** Splits $EDITOR into a program and its arguments (quotes honoured), to spawn without a shell. */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: '"' | "'" | undefined;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) current += line[++i];
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (c === '\\' && i + 1 < line.length) {
      current += line[++i];
      started = true;
    } else if (/\s/.test(c)) {
      if (started) out.push(current);
      current = '';
      started = false;
    } else {
      current += c;
      started = true;
    }
  }
  if (quote !== undefined)
    throw new UsageError(`the editor command has an unterminated ${quote}`, 'fix $EDITOR');
  if (started) out.push(current);
  return out;
}

function editorCommand(): string[] {
  const raw = process.env.SOPS_EDITOR ?? process.env.EDITOR ?? process.env.VISUAL ?? 'vi';
  const argv = splitCommandLine(raw);
  if (argv.length === 0) throw new UsageError('$EDITOR is empty', 'set EDITOR, e.g. EDITOR=nano');
  return argv;
}

function runEditor(argv: readonly string[], file: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    // Ctrl-C reaches the editor (same process group); the parent stays alive to wipe the plaintext.
    const ignore = (): void => undefined;
    process.on('SIGINT', ignore);
    const child = spawn(argv[0] as string, [...argv.slice(1), file], { stdio: 'inherit', shell: false });
    child.on('error', (error) => {
      process.off('SIGINT', ignore);
      reject(
        new UsageError(
          `cannot start the editor ${argv[0]}: ${(error as NodeJS.ErrnoException).code ?? error.message}`,
          'set EDITOR (or SOPS_EDITOR) to an installed editor, e.g. EDITOR=nano',
        ),
      );
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolvePromise(signal === null ? (code ?? 1) : 128);
    });
  });
}

/** Overwrites the plaintext with zeros, flushes, then deletes the file and its private folder. */
function wipe(dir: string, file: string): void {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, 'r+');
    try {
      const zeros = Buffer.alloc(Math.min(size, 1024 * 1024));
      for (let done = 0; done < size; done += zeros.length)
        writeSync(fd, zeros, 0, Math.min(zeros.length, size - done), done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // The editor may have replaced or removed the file; the folder is removed below in any case.
  }
  rmSync(dir, { recursive: true, force: true });
}

async function askAgain(message: string): Promise<boolean> {
  if (process.stdin.isTTY !== true || process.stderr.isTTY !== true) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      `${message}\nPress Enter to edit again, or type q and Enter to give up: `,
    );
    return answer.trim().toLowerCase() !== 'q';
  } finally {
    rl.close();
  }
}

async function editFile(file: string, flags: DecryptFlags & EncryptFlags): Promise<string> {
  const sops = await import('../sops/index.js');
  const format = await formatOf(file, flags.format);
  const exists = existsSync(file);
  let original: Buffer;
  let seal: (plaintext: Buffer) => Promise<Buffer>;
  let dispose = (): void => undefined;
  if (exists) {
    const identities = await sops.cliIdentities(flags.identity);
    const doc = await sops.decryptDocument(readInput(file), { file, format, identities });
    original = doc.plaintext();
    seal = async (plaintext) => doc.reencrypt(plaintext);
    dispose = () => doc.dispose();
  } else {
    const { recipients, rules } = await recipientsFor(file, flags);
    original = Buffer.alloc(0);
    seal = (plaintext) => sops.encryptDocument(plaintext, { file, format, recipients, rules });
  }
  const dir = mkdtempSync(join(tmpdir(), 'plumbline-secrets-'));
  chmodSync(dir, 0o700);
  const temp = join(dir, basename(file));
  try {
    writeFileSync(temp, original, { mode: 0o600 });
    const argv = editorCommand();
    for (;;) {
      const code = await runEditor(argv, temp);
      if (code !== 0) throw new InputError(`the editor exited with code ${code}; ${file} was left as it was`);
      const edited = readFileSync(temp);
      if (edited.equals(original)) return `no changes: ${file} was left as it was`;
      if (!exists && edited.toString('utf8').trim() === '') return `nothing written: ${file} was not created`;
      try {
        const sealed = await seal(edited);
        writeFileAtomic(file, sealed, modeOf(file, 0o644));
        return `encrypted ${file}`;
      } catch (error) {
        if (!(error instanceof sops.SecretsError) || error.reason !== 'malformed') throw error;
        if (!(await askAgain(`plumbline: ${error.message}`))) throw error;
      }
    }
  } finally {
    wipe(dir, temp);
    dispose();
  }
}

export function registerSecrets(program: Command): void {
  const secrets = program
    .command('secrets')
    .description('SOPS files encrypted for age recipients: keygen, encrypt, decrypt, edit')
    .addHelpText(
      'after',
      `
Files are SOPS 3 format (YAML, JSON, dotenv; anything else as a binary blob): keys stay readable, values are
AES-256-GCM encrypted, and the data key is wrapped for each age recipient. The sops CLI reads what Plumbline
writes and the other way round. The format comes from the file name (.yaml/.yml, .json, .env) or --format.

Examples:
  plumbline secrets keygen --output ~/.config/sops/age/keys.txt
  plumbline secrets encrypt secrets/web.sops.yaml --age age1… --in-place
  plumbline secrets decrypt secrets/web.sops.yaml --identity ~/.config/sops/age/keys.txt
  EDITOR=nano plumbline secrets edit secrets/web.sops.yaml`,
    );

  secrets
    .command('keygen')
    .description('make an age identity (X25519) and print its recipient')
    .option(
      '-o, --output <file>',
      'write the identity file here (mode 0600); without it, to stdout like age-keygen',
    )
    .option('--force', 'replace an existing file')
    .addHelpText(
      'after',
      `
The identity file is the age-keygen format: "# created", "# public key: age1…", then AGE-SECRET-KEY-1….
Keep it out of Git. Give the recipient (age1…) to whoever encrypts for you.

Examples:
  plumbline secrets keygen --output ~/.config/sops/age/keys.txt
  plumbline secrets keygen --output /etc/plumbline/age.key   # the controller's identity

Exit codes: 0 written, 2 the file exists (use --force) or cannot be written.`,
    )
    .action(async (opts: { output?: string; force?: boolean }) => {
      const { generateKeyPair } = await import('../sops/index.js');
      const { recipient, identityFile } = await generateKeyPair();
      if (opts.output === undefined || opts.output === '-') {
        process.stdout.write(identityFile);
        process.stderr.write(`Public key: ${recipient}\n`);
        return;
      }
      if (existsSync(opts.output) && opts.force !== true) {
        throw new InputError(`${opts.output} exists`, 'choose another file, or pass --force to replace it');
      }
      writeFileAtomic(opts.output, Buffer.from(identityFile, 'utf8'), 0o600);
      process.stderr.write(`plumbline: wrote the age identity to ${opts.output} (mode 0600)\n`);
      process.stdout.write(`${recipient}\n`);
    });

  secrets
    .command('encrypt')
    .description('encrypt a plain YAML, JSON, dotenv or binary file for age recipients')
    .argument('<file>', 'the plain file')
    .option(
      '--age <recipients>',
      'age recipients, comma-separated (default $SOPS_AGE_RECIPIENTS, then .sops.yaml)',
    )
    .option('-i, --in-place', 'replace the file with its encrypted form')
    .option('-o, --output <file>', 'write the encrypted file here (default stdout)')
    .option('--format <format>', 'yaml, json, dotenv or binary (default: from the file name)')
    .option(
      '--unencrypted-suffix <suffix>',
      'leave values of keys ending with this in plain text (default _unencrypted)',
    )
    .option('--encrypted-suffix <suffix>', 'encrypt only values of keys ending with this')
    .option('--unencrypted-regex <regex>', 'leave values of keys matching this in plain text')
    .option(
      '--encrypted-regex <regex>',
      'encrypt only values of keys matching this, e.g. ^(data|stringData)$',
    )
    .option('--mac-only-encrypted', 'let the MAC cover only encrypted values')
    .addHelpText(
      'after',
      `
Recipients come from --age, else $SOPS_AGE_RECIPIENTS, else the first creation rule of the nearest
.sops.yaml whose path_regex matches the file (its encrypted_regex and the like apply too).

Examples:
  plumbline secrets encrypt secrets/web.yaml --age age1… --output secrets/web.sops.yaml
  plumbline secrets encrypt .env --age age1a…,age1b… --in-place
  plumbline secrets encrypt k8s/secret.yaml --encrypted-regex '^(data|stringData)$' -i

Exit codes: 0 encrypted, 2 bad input (the message names the file and line) or no recipients.`,
    )
    .action(async (file: string, opts: EncryptFlags) => {
      if (opts.inPlace === true && opts.output !== undefined)
        throw new UsageError('--in-place and --output do not go together', 'choose one');
      const { encryptDocument } = await import('../sops/index.js');
      const format = await formatOf(file, opts.format);
      const { recipients, rules, from } = await recipientsFor(file, opts);
      const sealed = await encryptDocument(readInput(file), { file, format, recipients, rules });
      const target = opts.inPlace === true ? file : opts.output;
      if (target === undefined || target === '-') {
        process.stdout.write(sealed);
        return;
      }
      writeFileAtomic(target, sealed, modeOf(target, modeOf(file, 0o644)));
      process.stderr.write(
        `plumbline: encrypted ${file} for ${recipients.length} recipient(s) from ${from} → ${target}\n`,
      );
    });

  secrets
    .command('decrypt')
    .description('decrypt a SOPS file (its MAC is verified: a tampered file is refused)')
    .argument('<file>', 'the encrypted file')
    .option(
      '--identity <file>',
      'age identity file (default $SOPS_AGE_KEY_FILE, $SOPS_AGE_KEY, ~/.config/sops/age/keys.txt)',
    )
    .option('-o, --output <file>', 'write the plain file here, mode 0600 (default stdout)')
    .option('--extract <key>', 'print only the value of this top-level key (nested: a.b)')
    .option('--format <format>', 'yaml, json, dotenv or binary (default: from the file name)')
    .addHelpText(
      'after',
      `
The plaintext is written only where you ask: stdout, or a new file readable by you alone.

Examples:
  plumbline secrets decrypt secrets/web.sops.yaml
  SOPS_AGE_KEY_FILE=./keys.txt plumbline secrets decrypt .env.enc --format dotenv
  plumbline secrets decrypt secrets/web.sops.yaml --extract db_password

Exit codes: 0 decrypted, 2 no matching identity, a tampered or malformed file (file and line named).`,
    )
    .action(async (file: string, opts: DecryptFlags) => {
      const sops = await import('../sops/index.js');
      const format = await formatOf(file, opts.format);
      const identities = await sops.cliIdentities(opts.identity);
      const doc = await sops.decryptDocument(readInput(file), { file, format, identities });
      try {
        let out = doc.plaintext();
        if (opts.extract !== undefined) {
          const { lookup } = await import('../sops/tree.js');
          const value = lookup(doc.branches, opts.extract);
          if (
            value === undefined ||
            (typeof value === 'object' && value !== null && !(value instanceof Uint8Array))
          ) {
            throw new InputError(
              `${file} has no plain value at ${opts.extract}`,
              'name a key whose value is a string, number or boolean',
            );
          }
          out = Buffer.from(value instanceof Uint8Array ? value : String(value));
        }
        if (opts.output === undefined || opts.output === '-') process.stdout.write(out);
        else {
          writeFileAtomic(opts.output, out, 0o600);
          process.stderr.write(`plumbline: decrypted ${file} → ${opts.output} (mode 0600)\n`);
        }
      } finally {
        doc.dispose();
      }
    });

  secrets
    .command('edit')
    .description('decrypt into a private temporary file, open $EDITOR, re-encrypt on save')
    .argument('<file>', 'the encrypted file (a missing one is created: give recipients as for encrypt)')
    .option(
      '--identity <file>',
      'age identity file (default $SOPS_AGE_KEY_FILE, $SOPS_AGE_KEY, ~/.config/sops/age/keys.txt)',
    )
    .option('--age <recipients>', 'recipients for a new file (default $SOPS_AGE_RECIPIENTS, then .sops.yaml)')
    .option('--format <format>', 'yaml, json, dotenv or binary (default: from the file name)')
    .addHelpText(
      'after',
      `
The editor is $SOPS_EDITOR, $EDITOR or vi, run without a shell ("code --wait" works). The plaintext lives
in a 0600 file in a private temporary folder while it runs, and is overwritten and deleted afterwards. The
file is re-encrypted only if you changed it, with its own data key: unchanged values keep their ciphertext,
so the Git diff shows only what you edited.

Examples:
  EDITOR=nano plumbline secrets edit secrets/web.sops.yaml
  EDITOR="code --wait" plumbline secrets edit .env.sops.env --identity ~/keys.txt

Exit codes: 0 saved or unchanged, 2 bad input, no identity, the editor failed.`,
    )
    .action(async (file: string, opts: DecryptFlags & EncryptFlags) => {
      const message = await editFile(file, opts);
      process.stderr.write(`plumbline: ${message}\n`);
    });
}
