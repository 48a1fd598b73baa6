// The pip requirements extractor: `requirements.txt`, `requirements-*.txt`, `*-requirements.txt`,
// `requirements/*.txt` and `constraints.txt`.
import type { Extractor } from '../../types.js';
import { extractRequirements } from './extract.js';

const REQUIREMENTS = /^requirements.*\.txt$/i;
const SUFFIXED = /^.+[-_.]requirements\.txt$/i;
const CONSTRAINTS = /^constraints.*\.txt$/i;

/** True for the file names pip projects use for requirements and constraints. */
export function isRequirementsFile(path: string): boolean {
  const parts = path.split(/[\\/]/);
  const base = parts[parts.length - 1] ?? '';
  const parent = parts[parts.length - 2] ?? '';
  if (!/\.txt$/i.test(base)) return false;
  return (
    REQUIREMENTS.test(base) ||
    SUFFIXED.test(base) ||
    CONSTRAINTS.test(base) ||
    parent.toLowerCase() === 'requirements'
  );
}

export const requirementsExtractor: Extractor = {
  name: 'requirements-txt',
  ecosystem: 'PyPI',
  matches: isRequirementsFile,
  extract: extractRequirements,
};
