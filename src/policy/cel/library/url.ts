// URLs (the Kubernetes url library): an absolute URI or an absolute path, parsed without normalising (as Go's
// url.ParseRequestURI does: a port stays as written, a host keeps its case), with the library's getters.
import { type CelFunc, celFunc, celMethod } from '@bufbuild/cel';
import { fieldsOf, newMessage, URL_TYPE, UrlDesc } from '../types.js';
import { BOOL, MAP, STRING } from './common.js';

interface Parsed {
  readonly scheme: string;
  readonly host: string;
  readonly path: string;
  readonly query: string | undefined;
}

const ABSOLUTE = /^([a-zA-Z][a-zA-Z0-9+.-]*):(?:\/\/([^/?]*))?([^?]*)(?:\?(.*))?$/s;
const PATH = /^(\/[^?]*)(?:\?(.*))?$/s;

export function parseUrl(text: string): Parsed | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is rejected here
  if (/[\s\x00-\x1f\x7f]/.test(text) || /%(?![0-9a-fA-F]{2})/.test(text)) return undefined;
  const absolute = ABSOLUTE.exec(text);
  if (absolute !== null) {
    const authority = absolute[2] ?? '';
    const host = authority.includes('@') ? authority.slice(authority.lastIndexOf('@') + 1) : authority;
    if (host.startsWith('[') && !/^\[[0-9a-fA-F:.]+\](:\d*)?$/.test(host)) return undefined;
    if (!host.startsWith('[') && (host.match(/:/g) ?? []).length > 1) return undefined;
    if (/:\D/.test(host.replace(/^\[[^\]]*\]/, ''))) return undefined;
    return { scheme: absolute[1] as string, host, path: absolute[3] as string, query: absolute[4] };
  }
  const path = PATH.exec(text);
  if (path === null) return undefined;
  return { scheme: '', host: '', path: path[1] as string, query: path[2] };
}

function parsedOf(href: string): Parsed {
  return parseUrl(href) as Parsed;
}

function hostname(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.indexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

function port(host: string): string {
  const rest = host.startsWith('[') ? host.slice(host.indexOf(']') + 1) : host;
  const colon = rest.indexOf(':');
  return colon < 0 ? '' : rest.slice(colon + 1);
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part.replaceAll('+', ' '));
  } catch {
    return part;
  }
}

function query(q: string | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (q === undefined || q === '') return out;
  for (const pair of q.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    const list = out.get(key);
    if (list === undefined) out.set(key, [value]);
    else list.push(value);
  }
  return out;
}

const href = (v: { message: unknown; desc: unknown }): string => fieldsOf(v as never).href as string;

export const urlFunctions: CelFunc[] = [
  celFunc('url', [STRING], URL_TYPE, (s) => {
    if (parseUrl(s) === undefined) throw new Error(`URL "${s}" parse error during conversion from string`);
    return newMessage(UrlDesc, { href: s });
  }),
  celFunc('isURL', [STRING], BOOL, (s) => parseUrl(s) !== undefined),
  celFunc('string', [URL_TYPE], STRING, (u) => href(u)),
  celMethod('getScheme', URL_TYPE, [], STRING, function () {
    return parsedOf(href(this)).scheme;
  }),
  celMethod('getHost', URL_TYPE, [], STRING, function () {
    return parsedOf(href(this)).host;
  }),
  celMethod('getHostname', URL_TYPE, [], STRING, function () {
    return hostname(parsedOf(href(this)).host);
  }),
  celMethod('getPort', URL_TYPE, [], STRING, function () {
    return port(parsedOf(href(this)).host);
  }),
  celMethod('getEscapedPath', URL_TYPE, [], STRING, function () {
    return parsedOf(href(this)).path;
  }),
  celMethod('getQuery', URL_TYPE, [], MAP, function () {
    return query(parsedOf(href(this)).query);
  }),
];
