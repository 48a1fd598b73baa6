// Reference point for the deps benchmark (not a peer): the advisory store's own lookups and nothing else.
// Opens DIR/advisories.db read-only with better-sqlite3 (the project's dependency, the same SQLite), and for
// every package of the list (`ecosystem<TAB>name<TAB>version` lines, from the repository generator) runs the
// query the store runs (`affected` by ecosystem and name, PyPI names PEP 503-normalised), then reads and
// JSON-parses each document found, once per id, in one read transaction. No lockfile parsing, no version
// matching, no report: a floor for what a scan of these packages against this store must spend.
//
//   node bench/lib/store-lookups.mjs DATA_DIR PACKAGES.tsv   → prints `packages documents-found parsed`
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const [dataDir, packagesFile] = process.argv.slice(2);
const db = new Database(join(dataDir, 'advisories.db'), { readonly: true, fileMustExist: true });
const ids = db
  .prepare('SELECT vuln_id FROM affected WHERE ecosystem = ? AND name = ? AND withdrawn = 0 ORDER BY vuln_id')
  .pluck();
const json = db.prepare('SELECT json FROM vulns WHERE id = ?').pluck();
const packages = readFileSync(packagesFile, 'utf8')
  .split('\n')
  .filter((l) => l !== '')
  .map((l) => l.split('\t'));
const normalise = (eco, name) => (eco === 'PyPI' ? name.replace(/[-_.]+/g, '-').toLowerCase() : name);
let found = 0;
const parsed = new Map();
db.transaction(() => {
  for (const [eco, name] of packages) {
    for (const id of ids.all(eco, normalise(eco, name))) {
      found++;
      if (!parsed.has(id)) parsed.set(id, JSON.parse(json.get(id)));
    }
  }
})();
db.close();
process.stdout.write(`${packages.length} ${found} ${parsed.size}\n`);
