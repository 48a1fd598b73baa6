import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Package } from '../analyzers/deps/types.js';
import { cycloneDx, spdx } from './sbom.js';

// CommonJS packages under `module: nodenext`: their default export is the module object.
const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

const SCHEMAS = join(import.meta.dirname, '../../node_modules/@cyclonedx/cyclonedx-library/res/schema');

function pkg(partial: Partial<Package> & Pick<Package, 'name' | 'version' | 'purl'>): Package {
  return {
    ecosystem: 'npm',
    direct: false,
    dev: false,
    file: 'package-lock.json',
    line: 1,
    source: 'registry',
    key: `${partial.name}@${partial.version}`,
    ...partial,
  };
}

const PACKAGES: Package[] = [
  pkg({
    name: 'express',
    version: '4.18.2',
    purl: 'pkg:npm/express@4.18.2',
    direct: true,
    dependencies: ['debug@2.6.9'],
  }),
  pkg({ name: 'debug', version: '2.6.9', purl: 'pkg:npm/debug@2.6.9' }),
  pkg({
    name: '@types/node',
    version: '20.1.0',
    purl: 'pkg:npm/%40types/node@20.1.0',
    direct: true,
    dev: true,
  }),
  pkg({ name: 'debug', version: '2.6.9', purl: 'pkg:npm/debug@2.6.9', file: 'web/package-lock.json' }),
  pkg({
    ecosystem: 'Maven',
    name: 'org.apache.logging.log4j:log4j-core',
    version: '2.14.1',
    purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1',
    file: 'pom.xml',
    direct: true,
  }),
  pkg({
    ecosystem: 'PyPI',
    name: 'Django',
    version: '2.2.0',
    purl: 'pkg:pypi/django@2.2.0',
    file: 'requirements.txt',
    direct: true,
  }),
];
const OPTIONS = {
  name: 'shop',
  toolVersion: '0.1.0',
  timestamp: '2026-11-25T12:00:00.000Z',
  uuid: '3f0c6d2e-8a4b-4c1d-9e2f-1a2b3c4d5e6f',
};

describe('CycloneDX 1.5', () => {
  it('validates against the published CycloneDX 1.5 JSON schema', () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    for (const name of ['spdx.SNAPSHOT.schema.json', 'jsf-0.82.SNAPSHOT.schema.json']) {
      // The bundle refers to them by their SNAPSHOT file names, relative to its own $id.
      const schema = JSON.parse(readFileSync(join(SCHEMAS, name), 'utf8')) as Record<string, unknown>;
      ajv.addSchema({ ...schema, $id: `http://cyclonedx.org/schema/${name}` });
    }
    const validate = ajv.compile(
      JSON.parse(readFileSync(join(SCHEMAS, 'bom-1.5.SNAPSHOT.schema.json'), 'utf8')) as object,
    );
    const bom = cycloneDx(PACKAGES, OPTIONS);
    expect(validate(bom), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(validate({ ...bom, specVersion: 1.5 })).toBe(false); // the validator does reject bad documents
  });

  it('lists each package once, with groups, scopes, lockfiles and the dependency graph', () => {
    const bom = cycloneDx(PACKAGES, OPTIONS) as {
      components: {
        purl: string;
        group?: string;
        name: string;
        scope: string;
        properties: { name: string; value: string }[];
      }[];
      dependencies: { ref: string; dependsOn: string[] }[];
    };
    expect(bom.components).toHaveLength(5);
    const debug = bom.components.find((c) => c.name === 'debug');
    expect(debug?.properties.filter((p) => p.name === 'plumbline:lockfile').map((p) => p.value)).toEqual([
      'package-lock.json',
      'web/package-lock.json',
    ]);
    expect(bom.components.find((c) => c.name === 'node')).toMatchObject({
      group: '@types',
      scope: 'optional',
    });
    expect(bom.components.find((c) => c.name === 'log4j-core')?.group).toBe('org.apache.logging.log4j');
    expect(bom.dependencies.find((d) => d.ref === 'pkg:npm/express@4.18.2')?.dependsOn).toEqual([
      'pkg:npm/debug@2.6.9',
    ]);
    expect(bom.dependencies[0]?.dependsOn).toHaveLength(4);
  });
});

/**
 * SPDX 2.3's required fields and formats, from the specification (clauses 6–7 and 11): the official JSON
 * schema is not published in any npm or Debian package reachable here, so this checks the same rules.
 */
const spdxId = z.string().regex(/^SPDXRef-[A-Za-z0-9.-]+$/);
const spdxDocument = z
  .object({
    spdxVersion: z.literal('SPDX-2.3'),
    dataLicense: z.literal('CC0-1.0'),
    SPDXID: z.literal('SPDXRef-DOCUMENT'),
    name: z.string().min(1),
    documentNamespace: z
      .string()
      .url()
      .refine((u) => !u.includes('#'), 'no # in a namespace'),
    creationInfo: z.object({
      created: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      creators: z.array(z.string().regex(/^(Tool|Organization|Person): .+/)).min(1),
    }),
    packages: z.array(
      z.object({
        SPDXID: spdxId,
        name: z.string().min(1),
        downloadLocation: z.string().min(1),
        filesAnalyzed: z.boolean().optional(),
        versionInfo: z.string().optional(),
        externalRefs: z
          .array(
            z.object({
              referenceCategory: z.enum(['SECURITY', 'PACKAGE-MANAGER', 'PERSISTENT-ID', 'OTHER']),
              referenceType: z.string(),
              referenceLocator: z.string().regex(/^\S+$/),
            }),
          )
          .optional(),
      }),
    ),
    relationships: z.array(
      z.object({
        spdxElementId: z.string(),
        relationshipType: z.enum([
          'DESCRIBES',
          'DEPENDS_ON',
          'DEV_DEPENDENCY_OF',
          'CONTAINS',
          'OPTIONAL_DEPENDENCY_OF',
        ]),
        relatedSpdxElement: z.string(),
      }),
    ),
  })
  .superRefine((doc, ctx) => {
    const ids = new Set(['SPDXRef-DOCUMENT', ...doc.packages.map((p) => p.SPDXID)]);
    if (ids.size !== doc.packages.length + 1)
      ctx.addIssue({ code: 'custom', message: 'SPDXIDs are not unique' });
    for (const r of doc.relationships) {
      if (!ids.has(r.spdxElementId) || !ids.has(r.relatedSpdxElement)) {
        ctx.addIssue({ code: 'custom', message: `relationship to an unknown element: ${JSON.stringify(r)}` });
      }
    }
  });

describe('SPDX 2.3', () => {
  it('has the required fields, unique ids and resolvable relationships', () => {
    const doc = spdx(PACKAGES, OPTIONS);
    const parsed = spdxDocument.safeParse(doc);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(spdxDocument.safeParse({ ...doc, spdxVersion: 'SPDX-2.2' }).success).toBe(false);
  });

  it('marks direct, dev and transitive dependencies', () => {
    const doc = spdx(PACKAGES, OPTIONS) as {
      packages: { SPDXID: string; name: string; externalRefs?: { referenceLocator: string }[] }[];
      relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
    };
    const id = (name: string): string => doc.packages.find((p) => p.name === name)?.SPDXID ?? '';
    const rel = (type: string): string[] =>
      doc.relationships
        .filter((r) => r.relationshipType === type)
        .map((r) => `${r.spdxElementId}>${r.relatedSpdxElement}`);
    expect(rel('DEV_DEPENDENCY_OF')).toEqual([`${id('@types/node')}>SPDXRef-Package-root`]);
    expect(rel('DEPENDS_ON')).toContain(`${id('express')}>${id('debug')}`);
    expect(rel('DEPENDS_ON')).toContain(`SPDXRef-Package-root>${id('Django')}`);
    expect(doc.packages.find((p) => p.name === 'Django')?.externalRefs?.[0]?.referenceLocator).toBe(
      'pkg:pypi/django@2.2.0',
    );
  });
});
