// Zod schemas for pnpm-lock.yaml (lockfile versions 5.x, 6.x and 9.x), read with the YAML failsafe schema (all scalars strings).
import { z } from 'zod';

const StringMap = z.record(z.string(), z.string());

export const ResolutionSchema = z.object({
  integrity: z.string().optional(),
  tarball: z.string().optional(),
  type: z.string().optional(),
  repo: z.string().optional(),
  commit: z.string().optional(),
  directory: z.string().optional(),
  path: z.string().optional(),
});
export type Resolution = z.infer<typeof ResolutionSchema>;

/** A `packages` entry (v5/v6 carry dependencies and `dev` here; v9 keeps them in `snapshots`). */
export const PackageEntrySchema = z.object({
  resolution: ResolutionSchema.optional(),
  name: z.string().optional(),
  version: z.string().optional(),
  dev: z.string().optional(),
  optional: z.string().optional(),
  dependencies: StringMap.optional(),
  optionalDependencies: StringMap.optional(),
});
export type PackageEntry = z.infer<typeof PackageEntrySchema>;

/** A v9 `snapshots` entry. */
export const SnapshotSchema = z.object({
  dependencies: StringMap.optional(),
  optionalDependencies: StringMap.optional(),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;

/** An importer dependency: v5 writes the resolved reference, v6 and v9 `{ specifier, version }`. */
export const ImporterDependencySchema = z.union([
  z.string(),
  z.object({ version: z.string(), specifier: z.string().optional() }),
]);

export const ImporterDependenciesSchema = z.record(z.string(), z.unknown());
