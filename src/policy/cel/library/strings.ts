// Strings beyond CEL-ES's strings extension: the Kubernetes regex library (find, findAll), `matches` on the
// cached linear-time engine, `reverse`, and base64 (cel-go's encoders extension).
import { type CelFunc, celFunc, celMethod } from '@bufbuild/cel';
import { compileRegex, find, findAll } from '../regex.js';
import { BOOL, BYTES, INT, LIST, STRING } from './common.js';

export const stringFunctions: CelFunc[] = [
  celMethod('matches', STRING, [STRING], BOOL, function (pattern) {
    return compileRegex(pattern).test(this);
  }),
  celFunc('matches', [STRING, STRING], BOOL, (text, pattern) => compileRegex(pattern).test(text)),
  celMethod('find', STRING, [STRING], STRING, function (pattern) {
    return find(this, pattern);
  }),
  celMethod('findAll', STRING, [STRING], LIST, function (pattern) {
    return findAll(this, pattern);
  }),
  celMethod('findAll', STRING, [STRING, INT], LIST, function (pattern, limit) {
    return findAll(this, pattern, Number(limit));
  }),
  celMethod('reverse', STRING, [], STRING, function () {
    return [...this].reverse().join('');
  }),
  celFunc('base64.encode', [BYTES], STRING, (b) => Buffer.from(b).toString('base64')),
  celFunc('base64.decode', [STRING], BYTES, (s) => {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new Error('base64.decode: not base64');
    return new Uint8Array(Buffer.from(s, 'base64'));
  }),
];
