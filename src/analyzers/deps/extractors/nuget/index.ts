// The NuGet packages.lock.json extractor.
import type { Extractor } from '../../types.js';
import { extractNugetLock } from './extract.js';

export const nugetLockExtractor: Extractor = {
  name: 'nuget-lock',
  ecosystem: 'NuGet',
  matches: (path) => /(?:^|[\\/])packages(?:\.[^\\/]+)?\.lock\.json$/.test(path),
  extract: extractNugetLock,
};
