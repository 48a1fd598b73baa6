// The version scheme of every supported OSV ecosystem, in one explicit registry.
import { ECOSYSTEMS, type Ecosystem, type VersionScheme } from '../types.js';
import { cargoScheme } from './cargo.js';
import { goScheme } from './go.js';
import { mavenScheme } from './maven.js';
import { npmScheme } from './npm.js';
import { nugetScheme } from './nuget.js';
import { packagistScheme } from './packagist.js';
import { pypiScheme } from './pypi.js';
import { rubygemsScheme } from './rubygems.js';

export const VERSION_SCHEMES: Readonly<Record<Ecosystem, VersionScheme>> = Object.freeze({
  npm: npmScheme,
  PyPI: pypiScheme,
  Go: goScheme,
  'crates.io': cargoScheme,
  RubyGems: rubygemsScheme,
  Maven: mavenScheme,
  NuGet: nugetScheme,
  Packagist: packagistScheme,
});

function isEcosystem(name: string): name is Ecosystem {
  return (ECOSYSTEMS as readonly string[]).includes(name);
}

/** The scheme for an OSV ecosystem name, spelled exactly as OSV spells it (`PyPI`, `crates.io`); else undefined. */
export function schemeFor(ecosystem: string): VersionScheme | undefined {
  return isEcosystem(ecosystem) ? VERSION_SCHEMES[ecosystem] : undefined;
}
