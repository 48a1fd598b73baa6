// Package URL (purl) builder following the purl spec's normalization and percent-encoding rules.

/** Characters the purl spec leaves unencoded in every component: RFC 3986 unreserved plus the colon. */
const SAFE = /^[A-Za-z0-9.\-_~:]$/;

/** Percent-encodes one purl component (UTF-8, uppercase hex), keeping only the spec's unreserved set and `:`. */
export function encodePurlComponent(value: string): string {
  let out = '';
  for (const char of value) {
    if (SAFE.test(char)) {
      out += char;
      continue;
    }
    for (const byte of new TextEncoder().encode(char)) {
      out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}

/** Type-specific normalization of a namespace segment or name (purl-spec `types/*-definition.json`). */
function normalize(type: string, value: string, part: 'namespace' | 'name'): string {
  switch (type) {
    case 'npm':
    case 'github':
    case 'bitbucket':
    case 'composer':
    case 'gitlab':
      return value.toLowerCase();
    case 'pypi':
      return part === 'name' ? value.toLowerCase().replace(/[-_.]+/g, '-') : value.toLowerCase();
    default:
      return value;
  }
}

/**
 * Builds `pkg:type/namespace/name@version?qualifiers`. Namespace segments (split on `/`), name, version and
 * qualifier values are percent-encoded (so npm's `@scope` becomes `%40scope`); the type and qualifier keys are
 * lowercased; qualifiers are sorted by key and empty ones dropped.
 */
export function purl(
  type: string,
  namespace: string | undefined,
  name: string,
  version: string | undefined,
  qualifiers?: Readonly<Record<string, string | undefined>>,
): string {
  const normalizedType = type.toLowerCase();
  let out = `pkg:${normalizedType}/`;
  const segments = (namespace ?? '').split('/').filter((segment) => segment !== '');
  for (const segment of segments) {
    out += `${encodePurlComponent(normalize(normalizedType, segment, 'namespace'))}/`;
  }
  const trimmedName = name.replace(/^\/+|\/+$/g, '');
  out += encodePurlComponent(normalize(normalizedType, trimmedName, 'name'));
  if (version !== undefined && version !== '') out += `@${encodePurlComponent(version)}`;
  if (qualifiers !== undefined) {
    const pairs = Object.entries(qualifiers)
      .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '')
      .map(([key, value]) => [key.toLowerCase(), value] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    if (pairs.length > 0) {
      out += `?${pairs.map(([key, value]) => `${key}=${encodePurlComponent(value)}`).join('&')}`;
    }
  }
  return out;
}

/** The purl of an npm package by its full name (`@scope/name` or `name`). */
export function npmPurl(name: string, version: string | undefined): string {
  if (name.startsWith('@')) {
    const slash = name.indexOf('/');
    if (slash > 0) return purl('npm', name.slice(0, slash), name.slice(slash + 1), version);
  }
  return purl('npm', undefined, name, version);
}
