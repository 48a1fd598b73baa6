// The JSONPath subset a `web` metric picks its result with: `$`, then `.name`, `['name']` / `["name"]` and
// `[index]` steps (a negative index counts from the end). No wildcards, filters or recursive descent: one
// path names at most one value, so a condition always sees one result.

export type PathStep = { readonly key: string } | { readonly index: number };

export type ParsedPath = { ok: true; steps: readonly PathStep[] } | { ok: false; message: string };

const HELP = 'write a path like $.data.value, $.results[0].rate or $["error-rate"]';
const NAME = /[A-Za-z_$][\w$-]*/y;
const INDEX = /\[(-?\d+)\]/y;
const QUOTED = /\[(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\]/y;

export function parseJsonPath(path: string): ParsedPath {
  if (!path.startsWith('$')) return { ok: false, message: `"${path}" does not start with $; ${HELP}` };
  const steps: PathStep[] = [];
  let offset = 1;
  while (offset < path.length) {
    const rest = path.slice(offset);
    if (rest.startsWith('..') || rest.startsWith('[*]') || rest.startsWith('.*') || rest.startsWith('[?')) {
      return { ok: false, message: `"${path}": wildcards, filters and .. are not supported; ${HELP}` };
    }
    if (path[offset] === '.') {
      NAME.lastIndex = offset + 1;
      const match = NAME.exec(path);
      if (match === null) return { ok: false, message: `"${path}" has a bad name at ${offset + 1}; ${HELP}` };
      steps.push({ key: match[0] });
      offset = NAME.lastIndex;
      continue;
    }
    INDEX.lastIndex = offset;
    const index = INDEX.exec(path);
    if (index !== null) {
      steps.push({ index: Number(index[1]) });
      offset = INDEX.lastIndex;
      continue;
    }
    QUOTED.lastIndex = offset;
    const quoted = QUOTED.exec(path);
    if (quoted !== null) {
      steps.push({ key: (quoted[1] ?? quoted[2] ?? '').replace(/\\(.)/g, '$1') });
      offset = QUOTED.lastIndex;
      continue;
    }
    return { ok: false, message: `"${path}" cannot be read at position ${offset + 1}; ${HELP}` };
  }
  return { ok: true, steps };
}

/** The value at `steps` in `document`, or undefined when the path leads nowhere. */
export function selectJsonPath(document: unknown, steps: readonly PathStep[]): unknown {
  let current: unknown = document;
  for (const step of steps) {
    if ('index' in step) {
      if (!Array.isArray(current)) return undefined;
      current = current[step.index < 0 ? current.length + step.index : step.index];
    } else {
      if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
      if (!Object.hasOwn(current, step.key)) return undefined;
      current = (current as Record<string, unknown>)[step.key];
    }
    if (current === undefined) return undefined;
  }
  return current;
}
