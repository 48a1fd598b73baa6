// Python package names: PEP 503 normalisation and the name at the head of a PEP 508 requirement string.
import { purl } from '../purl.js';

/** PEP 503: lower case, and every run of `-`, `_` and `.` becomes one `-`. */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

const NAME = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)/;

/** The distribution name a PEP 508 requirement starts with (`requests[socks]>=2; …` → `requests`). */
export function requirementName(requirement: string): string | undefined {
  return NAME.exec(requirement)?.[1];
}

/** `pkg:pypi/django@2.2.0`: the name normalised per PEP 503. */
export function pypiPurl(name: string, version: string): string {
  return purl('pypi', undefined, normalizePypiName(name), version);
}
