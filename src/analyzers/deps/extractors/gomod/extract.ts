// Reads go.mod: each `require` is a package (`// indirect` ones are transitive), with `replace` directives
// applied: a replacement by a local path makes the source `file`, one by another module or version rewrites
// the name and version. `exclude`, `retract`, `go`, `toolchain` and the main module are not packages.

import type { ExtractContext, Package } from '../../types.js';
import { purl } from '../purl.js';
import { type GoModLine, parseGoMod } from './parse.js';

interface Replacement {
  readonly version: string | undefined;
  readonly to: string;
  readonly toVersion: string | undefined;
}

/** `pkg:golang/golang.org/x/net@v0.1.0`: the module path up to its last `/` is the namespace. */
export function goPurl(modulePath: string, version: string): string {
  const slash = modulePath.lastIndexOf('/');
  return slash === -1
    ? purl('golang', undefined, modulePath, version)
    : purl('golang', modulePath.slice(0, slash), modulePath.slice(slash + 1), version);
}

/** A replacement target that is a directory: `./x`, `../x`, `/x`, `C:\x`. */
function isLocalPath(target: string): boolean {
  return /^(?:\.{1,2}(?:[\\/]|$)|[\\/]|[a-zA-Z]:[\\/])/.test(target);
}

function isIndirect(comment: string): boolean {
  return comment === 'indirect' || comment.startsWith('indirect;');
}

function replacements(lines: readonly GoModLine[]): Map<string, Replacement[]> {
  const out = new Map<string, Replacement[]>();
  for (const { verb, args } of lines) {
    if (verb !== 'replace') continue;
    const arrow = args.indexOf('=>');
    if (arrow !== 1 && arrow !== 2) continue;
    const [from, version] = args;
    const to = args[arrow + 1];
    if (from === undefined || to === undefined || args.length > arrow + 3) continue;
    const entry = { version: arrow === 2 ? version : undefined, to, toVersion: args[arrow + 2] };
    out.set(from, [...(out.get(from) ?? []), entry]);
  }
  return out;
}

/** Extracts the required modules of a go.mod. */
export function extractGoMod(content: string, context: ExtractContext): Package[] {
  const lines = parseGoMod(content);
  const mainModule = lines.find((line) => line.verb === 'module')?.args[0];
  const replaced = replacements(lines);
  const packages: Package[] = [];
  const keys = new Set<string>();
  for (const { verb, args, comment, line } of lines) {
    if (verb !== 'require' || args.length !== 2) continue;
    const [path, required] = args;
    if (path === undefined || required === undefined || path === mainModule || !required.startsWith('v'))
      continue;
    const candidates = replaced.get(path) ?? [];
    const replacement =
      candidates.find((r) => r.version === required) ?? candidates.find((r) => r.version === undefined);
    let name = path;
    let version = required;
    let source: Package['source'] = 'registry';
    if (replacement !== undefined && isLocalPath(replacement.to)) {
      source = 'file';
    } else if (replacement?.toVersion !== undefined) {
      name = replacement.to;
      version = replacement.toVersion;
    }
    const key = `${name}@${version}`;
    if (keys.has(key)) continue;
    keys.add(key);
    packages.push({
      ecosystem: 'Go',
      name,
      version,
      purl: goPurl(name, version),
      direct: !isIndirect(comment),
      dev: false,
      file: context.path,
      line,
      source,
      key,
    });
  }
  return packages;
}
