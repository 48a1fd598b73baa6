// Zod schemas for the parts of package-lock.json, npm-shrinkwrap.json and package.json the extractors read.
import { z } from 'zod';

const StringMap = z.record(z.string(), z.string());

/** package.json, leniently: unknown fields are ignored, malformed dependency maps are dropped. */
export const ManifestSchema = z.object({
  name: z.string().optional().catch(undefined),
  version: z.string().optional().catch(undefined),
  dependencies: StringMap.optional().catch(undefined),
  devDependencies: StringMap.optional().catch(undefined),
  optionalDependencies: StringMap.optional().catch(undefined),
  peerDependencies: StringMap.optional().catch(undefined),
  workspaces: z
    .union([z.array(z.string()), z.object({ packages: z.array(z.string()).optional() })])
    .optional()
    .catch(undefined),
});
export type Manifest = z.infer<typeof ManifestSchema>;

/** One value of the v2/v3 `packages` map. */
export const PackagesEntrySchema = z.object({
  name: z.string().optional(),
  version: z.string().optional(),
  resolved: z.string().optional(),
  link: z.boolean().optional(),
  dev: z.boolean().optional(),
  optional: z.boolean().optional(),
  devOptional: z.boolean().optional(),
  peer: z.boolean().optional(),
  dependencies: StringMap.optional(),
  devDependencies: StringMap.optional(),
  optionalDependencies: StringMap.optional(),
  peerDependencies: StringMap.optional(),
  peerDependenciesMeta: z.record(z.string(), z.object({ optional: z.boolean().optional() })).optional(),
  workspaces: z
    .union([z.array(z.string()), z.object({ packages: z.array(z.string()).optional() })])
    .optional(),
});
export type PackagesEntry = z.infer<typeof PackagesEntrySchema>;

/** One value of the v1 nested `dependencies` tree (its own `dependencies` are checked one level at a time). */
export const TreeEntrySchema = z.object({
  version: z.string(),
  resolved: z.string().optional(),
  dev: z.boolean().optional(),
  optional: z.boolean().optional(),
  requires: z.union([StringMap, z.boolean()]).optional(),
  dependencies: z.record(z.string(), z.unknown()).optional(),
});
export type TreeEntry = z.infer<typeof TreeEntrySchema>;
