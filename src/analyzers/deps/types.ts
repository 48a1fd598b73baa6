// The contracts of dependency scanning: what an extractor finds in a lockfile, and how versions compare.

/** OSV ecosystem names, exactly as OSV spells them. */
export const ECOSYSTEMS = [
  'npm',
  'PyPI',
  'Go',
  'crates.io',
  'RubyGems',
  'Maven',
  'NuGet',
  'Packagist',
] as const;
export type Ecosystem = (typeof ECOSYSTEMS)[number];

/** One third-party package a lockfile pulls in. */
export interface Package {
  readonly ecosystem: Ecosystem;
  /** As the ecosystem names it (`@babel/core`, `Django`, `golang.org/x/net`, `org.apache.logging.log4j:log4j-core`). */
  readonly name: string;
  /** The resolved version, as written (`1.2.3`, `2.2.0`, `v0.0.0-2021…`). */
  readonly version: string;
  /** Package URL: `pkg:npm/%40babel/core@7.24.0`, `pkg:pypi/django@2.2.0`, `pkg:golang/golang.org/x/net@v0.1.0`. */
  readonly purl: string;
  /** Declared by the project itself (not pulled in by another package). */
  readonly direct: boolean;
  /** Only needed for development (devDependencies, dev groups, `--dev`). */
  readonly dev: boolean;
  /** Repository-relative path of the file it was found in, with forward slashes. */
  readonly file: string;
  /** 1-based line in that file where the package's entry starts. */
  readonly line: number;
  /**
   * Where it comes from. Only `registry` packages are matched against advisories; git, file, link and
   * workspace packages are listed (SBOM) but have no registry version to look up.
   */
  readonly source: 'registry' | 'git' | 'file' | 'link' | 'workspace';
  /** A key unique within the file (`node_modules/a/node_modules/b`, `name@version`), for `dependencies`. */
  readonly key: string;
  /** Keys of the packages this one depends on, when the format records them. */
  readonly dependencies?: readonly string[];
}

/** A lockfile (or manifest) that cannot be read: the scan reports it and goes on with the other files. */
export class LockfileError extends Error {
  readonly line: number | undefined;
  constructor(message: string, line?: number) {
    super(message);
    this.name = 'LockfileError';
    this.line = line;
  }
}

export interface ExtractContext {
  /** Repository-relative path of the file. */
  readonly path: string;
  /** Reads another file relative to the scanned root (for `-r other.txt` includes); undefined when missing. */
  readonly readFile: (relativePath: string) => string | undefined;
}

/** One lockfile format. Each lives in its own folder under extractors/, registered in extractors/index.ts. */
export interface Extractor {
  /** `npm-lock`, `yarn-lock`, `requirements-txt`, … */
  readonly name: string;
  readonly ecosystem: Ecosystem;
  /** True for file paths this extractor reads (by base name, usually). */
  matches(path: string): boolean;
  /** Throws LockfileError (with a line where it can) on malformed input. */
  extract(content: string, context: ExtractContext): Package[];
}

/** Version ordering of one ecosystem. */
export interface VersionScheme {
  readonly ecosystem: Ecosystem;
  /** Negative, zero or positive; throws InvalidVersionError for a version the ecosystem would not accept. */
  compare(a: string, b: string): number;
  isValid(version: string): boolean;
}

export class InvalidVersionError extends Error {
  constructor(ecosystem: string, version: string) {
    super(`"${version}" is not a valid ${ecosystem} version`);
    this.name = 'InvalidVersionError';
  }
}
