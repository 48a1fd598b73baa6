// Software bills of materials from the packages the lockfiles name: CycloneDX 1.5 JSON and SPDX 2.3 JSON.
// Pure: packages in, a document out. The same package found in several lockfiles is one component.
import { createHash, randomUUID } from 'node:crypto';
import type { Package } from '../analyzers/deps/types.js';

export type SbomFormat = 'cyclonedx' | 'spdx';

export interface SbomOptions {
  /** The project's name (the scanned folder's name). */
  readonly name: string;
  readonly toolVersion: string;
  /** ISO 8601; fixed in tests. */
  readonly timestamp: string;
  /** A UUID; fixed in tests, random otherwise. */
  readonly uuid?: string;
}

interface Component {
  readonly pkg: Package;
  readonly ref: string;
  readonly files: string[];
  readonly dependsOn: Set<string>;
  direct: boolean;
  dev: boolean;
}

/** One entry per purl; dependencies resolved from each lockfile's keys to purls. */
function components(packages: readonly Package[]): Component[] {
  const byPurl = new Map<string, Component>();
  const byFileKey = new Map<string, string>();
  for (const pkg of packages) {
    byFileKey.set(`${pkg.file}\0${pkg.key}`, pkg.purl);
    const existing = byPurl.get(pkg.purl);
    if (existing === undefined) {
      byPurl.set(pkg.purl, {
        pkg,
        ref: pkg.purl,
        files: [pkg.file],
        dependsOn: new Set(),
        direct: pkg.direct,
        dev: pkg.dev,
      });
    } else {
      if (!existing.files.includes(pkg.file)) existing.files.push(pkg.file);
      existing.direct ||= pkg.direct;
      existing.dev &&= pkg.dev;
    }
  }
  for (const pkg of packages) {
    const from = byPurl.get(pkg.purl) as Component;
    for (const key of pkg.dependencies ?? []) {
      const to = byFileKey.get(`${pkg.file}\0${key}`);
      if (to !== undefined && to !== pkg.purl) from.dependsOn.add(to);
    }
  }
  return [...byPurl.values()].sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
}

/** Maven `group:artifact` and npm `@scope/name` split into CycloneDX's group and name. */
function groupAndName(pkg: Package): { group?: string; name: string } {
  if (pkg.ecosystem === 'Maven' && pkg.name.includes(':')) {
    const [group, name] = pkg.name.split(':', 2) as [string, string];
    return { group, name };
  }
  if (pkg.ecosystem === 'npm' && pkg.name.startsWith('@') && pkg.name.includes('/')) {
    const slash = pkg.name.indexOf('/');
    return { group: pkg.name.slice(0, slash), name: pkg.name.slice(slash + 1) };
  }
  if (pkg.ecosystem === 'Packagist' && pkg.name.includes('/')) {
    const slash = pkg.name.indexOf('/');
    return { group: pkg.name.slice(0, slash), name: pkg.name.slice(slash + 1) };
  }
  return { name: pkg.name };
}

export function cycloneDx(packages: readonly Package[], options: SbomOptions): Record<string, unknown> {
  const list = components(packages);
  const rootRef = `plumbline:root:${options.name}`;
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: `urn:uuid:${options.uuid ?? randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: options.timestamp,
      tools: { components: [{ type: 'application', name: 'plumbline', version: options.toolVersion }] },
      component: { type: 'application', 'bom-ref': rootRef, name: options.name },
    },
    components: list.map((c) => ({
      type: 'library',
      'bom-ref': c.ref,
      ...groupAndName(c.pkg),
      version: c.pkg.version,
      purl: c.pkg.purl,
      scope: c.dev ? 'optional' : 'required',
      properties: [
        { name: 'plumbline:ecosystem', value: c.pkg.ecosystem },
        { name: 'plumbline:direct', value: String(c.direct) },
        { name: 'plumbline:dev', value: String(c.dev) },
        { name: 'plumbline:source', value: c.pkg.source },
        ...c.files.map((f) => ({ name: 'plumbline:lockfile', value: f })),
      ],
    })),
    dependencies: [
      { ref: rootRef, dependsOn: list.filter((c) => c.direct).map((c) => c.ref) },
      ...list.map((c) => ({ ref: c.ref, dependsOn: [...c.dependsOn].sort() })),
    ],
  };
}

/** SPDX identifiers allow letters, digits, `.` and `-` only. */
function spdxId(purl: string): string {
  const readable = purl
    .replace(/^pkg:/, '')
    .replace(/[^A-Za-z0-9.-]+/g, '-')
    .slice(0, 80);
  const hash = createHash('sha256').update(purl).digest('hex').slice(0, 8);
  return `SPDXRef-Package-${readable}-${hash}`;
}

export function spdx(packages: readonly Package[], options: SbomOptions): Record<string, unknown> {
  const list = components(packages);
  const ids = new Map(list.map((c) => [c.ref, spdxId(c.ref)]));
  const rootId = 'SPDXRef-Package-root';
  const relationships: Record<string, string>[] = [
    { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: rootId },
  ];
  for (const c of list) {
    const id = ids.get(c.ref) as string;
    if (c.direct) {
      relationships.push(
        c.dev
          ? { spdxElementId: id, relationshipType: 'DEV_DEPENDENCY_OF', relatedSpdxElement: rootId }
          : { spdxElementId: rootId, relationshipType: 'DEPENDS_ON', relatedSpdxElement: id },
      );
    }
    for (const to of [...c.dependsOn].sort()) {
      relationships.push({
        spdxElementId: id,
        relationshipType: 'DEPENDS_ON',
        relatedSpdxElement: ids.get(to) as string,
      });
    }
  }
  const uuid = options.uuid ?? randomUUID();
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: options.name,
    documentNamespace: `https://plumbline.dev/spdxdocs/${encodeURIComponent(options.name)}-${uuid}`,
    creationInfo: {
      created: options.timestamp.replace(/\.\d+Z$/, 'Z'),
      creators: [`Tool: plumbline-${options.toolVersion}`],
    },
    packages: [
      {
        SPDXID: rootId,
        name: options.name,
        downloadLocation: 'NOASSERTION',
        filesAnalyzed: false,
        primaryPackagePurpose: 'APPLICATION',
      },
      ...list.map((c) => ({
        SPDXID: ids.get(c.ref),
        name: c.pkg.name,
        versionInfo: c.pkg.version,
        downloadLocation: 'NOASSERTION',
        filesAnalyzed: false,
        licenseConcluded: 'NOASSERTION',
        licenseDeclared: 'NOASSERTION',
        copyrightText: 'NOASSERTION',
        primaryPackagePurpose: 'LIBRARY',
        externalRefs: [
          { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: c.pkg.purl },
        ],
      })),
    ],
    relationships,
  };
}
