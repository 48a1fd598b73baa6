// The working-tree corpus: real JavaScript/TypeScript/JSON copied from the project's own node_modules.
//
// Files are taken in a deterministic order (byte-wise sorted walk) until the target size is reached. The
// project's node_modules holds less than a 60 MB corpus needs (about 47 MB of such files), so the walk
// cycles: pass 2 onward copies the same files again under `pass-N/`, each with a one-line comment
// prepended so that no two files in the corpus have the same content (a scanner that caches or
// de-duplicates by content hash gains nothing). Paths never contain `node_modules` or dot-folders (renamed
// or skipped) so that no tool's default ignore rules leave files out; the corpus is a plain folder, not a
// Git repository, so every tool walks the file system.
import {
  copyFileSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureDir, log, MB, sha256 } from './util.mjs';

const EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.json'];
const MANIFEST = 'bench-manifest.json';
// Bump when the way the corpus is built changes, so cached corpora are rebuilt.
const FORMAT = 2;

function listSource(root) {
  const files = [];
  const walk = (dir, rel) => {
    const names = readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const abs = join(dir, name);
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) continue;
      if (st.isDirectory()) walk(abs, relPath);
      else if (st.isFile() && EXTENSIONS.some((e) => name.endsWith(e)) && st.size > 0) {
        files.push({ abs, rel: relPath, size: st.size });
      }
    }
  };
  walk(root, '');
  return files;
}

/** A fingerprint of the source files (names and sizes), so a changed node_modules rebuilds the corpus. */
function sourceKey(files) {
  return sha256(files.map((f) => `${f.rel}\0${f.size}`).join('\n')).slice(0, 16);
}

/**
 * Builds (or reuses) a corpus of about `sizeMb` MB under `workDir`, from `sourceRoot`.
 * Returns { dir, files, bytes, passes, key }.
 */
export function buildTreeCorpus({ workDir, sourceRoot, sizeMb }) {
  const source = listSource(sourceRoot);
  if (source.length === 0) throw new Error(`no source files under ${sourceRoot}`);
  const key = `${FORMAT}-${sourceKey(source)}`;
  const target = Math.round(sizeMb * MB);
  const dir = join(workDir, `corpus-tree-${sizeMb}mb`);
  const manifestPath = `${dir}.${MANIFEST}`;
  if (existsSync(manifestPath)) {
    try {
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      if (manifest.key === key && manifest.target === target) {
        log(`tree corpus: reusing ${dir} (${manifest.files} files, ${(manifest.bytes / MB).toFixed(1)} MB)`);
        return { dir, ...manifest };
      }
    } catch {
      // rebuild
    }
  }
  log(`tree corpus: building ${dir} (${sizeMb} MB from ${sourceRoot})`);
  rmSync(dir, { recursive: true, force: true });
  ensureDir(dir);
  let bytes = 0;
  let files = 0;
  let pass = 1;
  outer: for (;;) {
    for (const file of source) {
      if (bytes >= target) break outer;
      const rel = file.rel.replaceAll('node_modules', 'nm');
      const dest = join(dir, pass === 1 ? rel : `pass-${pass}/${rel}`);
      ensureDir(dirname(dest));
      if (pass === 1) {
        copyFileSync(file.abs, dest);
        bytes += file.size;
      } else {
        const header = Buffer.from(`/* plumbline bench corpus, copy ${pass} */\n`);
        const body = Buffer.concat([header, readFileSync(file.abs)]);
        writeFileSync(dest, body);
        bytes += body.length;
      }
      files += 1;
    }
    pass += 1;
  }
  const manifest = { key, target, files, bytes, passes: pass };
  // The manifest sits beside the corpus folder, not in it, so no tool scans it.
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  log(`tree corpus: ${files} files, ${(bytes / MB).toFixed(1)} MB in ${manifest.passes} pass(es)`);
  return { dir, ...manifest };
}

/** Reads every file once so the timed runs all start from a warm page cache. */
export function warmCache(dir) {
  let total = 0;
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, entry.name);
      if (entry.isDirectory()) walk(abs);
      else if (entry.isFile()) total += readFileSync(abs).length;
    }
  };
  walk(dir);
  return total;
}
