// Zod schemas for bun.lock (the text lockfile, JSONC): its workspaces and package tuples.
import { z } from 'zod';

const StringMap = z.record(z.string(), z.string());

export const WorkspaceSchema = z.object({
  name: z.string().optional(),
  version: z.string().optional(),
  dependencies: StringMap.optional(),
  devDependencies: StringMap.optional(),
  optionalDependencies: StringMap.optional(),
  peerDependencies: StringMap.optional(),
});
export type Workspace = z.infer<typeof WorkspaceSchema>;

/** The metadata object inside a package tuple. */
export const PackageMetaSchema = z.object({
  dependencies: StringMap.optional(),
  optionalDependencies: StringMap.optional(),
  peerDependencies: StringMap.optional(),
  optionalPeers: z.array(z.string()).optional(),
});
export type PackageMeta = z.infer<typeof PackageMetaSchema>;

/** `["name@version", registry?, { …meta }?, integrity?]`: the first item names the package, the rest vary by source. */
export const PackageTupleSchema = z.tuple([z.string()]).rest(z.unknown());
