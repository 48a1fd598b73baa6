// The ledger over the controller's HTTP API: the log (paged, filtered), one entry, an entry's proof bundle,
// the latest signed checkpoint, consistency proofs and the public key. Read-only, viewer access. The
// controller registers these on its server: `registerAuditRoutes(server, { ledger, verifierKey })`.
import { z } from 'zod';
import type { PlumblineServer } from '../server/app.js';
import { ConflictError, NotFoundError } from '../server/errors.js';
import { errorBodySchema, jsonSchema } from '../server/schemas.js';
import { BUNDLE_FORMAT, type ProofBundle, proveEntry } from './bundle.js';
import { ACTOR_KINDS, type AuditEntry } from './entry.js';
import type { AuditLedger } from './store.js';

export interface AuditRoutesOptions {
  readonly ledger: AuditLedger;
  /** The ledger's verifier key (`NoteSigner.verifierKey`), served at /api/v1/audit/key. */
  readonly verifierKey?: string;
}

const text = z.string().min(1).max(1000);

export const auditEntriesQuerySchema = z.strictObject({
  environment: text.optional(),
  app: text.optional(),
  actor: text.optional(),
  action: text.optional(),
  /** ISO 8601: entries at or after. */
  since: z.iso.datetime({ offset: true }).optional(),
  /** The previous page's `next`: entries with an id below it. */
  before: z.number().int().min(0).optional(),
  limit: z.number().int().min(1).max(1000).default(50),
});
export const auditEntryParamsSchema = z.strictObject({ id: z.number().int().min(0) });
export const auditConsistencyQuerySchema = z.strictObject({
  from: z.number().int().min(1),
  to: z.number().int().min(1).optional(),
});

export const auditEntrySchema = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.object({ kind: z.enum(ACTOR_KINDS), id: z.string() }),
  action: z.string(),
  subject: z.object({
    environment: z.string().optional(),
    app: z.string().optional(),
    revision: z.string().optional(),
    commit: z.string().optional(),
  }),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  reason: z.string().optional(),
  evidence: z.array(z.object({ kind: z.string(), digest: z.string(), uri: z.string().optional() })),
});
export const auditEntriesSchema = z.object({
  entries: z.array(auditEntrySchema),
  /** Pass as `before` for the next (older) page; absent on the last one. */
  next: z.number().int().optional(),
  /** The ledger's size when read. */
  size: z.number().int(),
});
export const auditBundleSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  entry: z.record(z.string(), z.unknown()),
  canonical: z.string(),
  leafHash: z.string(),
  leafIndex: z.number().int(),
  treeSize: z.number().int(),
  inclusionProof: z.array(z.string()),
  checkpoint: z.string(),
});
export const auditConsistencySchema = z.object({
  from: z.number().int(),
  to: z.number().int(),
  /** Base64 hashes (RFC 9162 order). */
  proof: z.array(z.string()),
});
export const auditKeySchema = z.object({ key: z.string() });

type EntriesQuery = z.infer<typeof auditEntriesQuerySchema>;
type EntryParams = z.infer<typeof auditEntryParamsSchema>;
type ConsistencyQuery = z.infer<typeof auditConsistencyQuerySchema>;

const errors = {
  '4xx': jsonSchema(errorBodySchema, 'output'),
  '5xx': jsonSchema(errorBodySchema, 'output'),
};

function ok(schema: z.ZodType): Record<string, unknown> {
  return { 200: jsonSchema(schema, 'output'), ...errors };
}

/** Registers the ledger's routes (all `viewer`) on the controller's server. */
export function registerAuditRoutes(server: PlumblineServer, options: AuditRoutesOptions): void {
  const { ledger } = options;

  async function requireEntry(id: number): Promise<AuditEntry> {
    const entry = await ledger.entry(id);
    if (entry === undefined) {
      throw new NotFoundError(`there is no audit entry ${id}`, 'list them with GET /api/v1/audit/entries');
    }
    return entry;
  }

  server.get<{ Querystring: EntriesQuery }>(
    '/api/v1/audit/entries',
    {
      config: { access: 'viewer' },
      schema: { querystring: jsonSchema(auditEntriesQuerySchema), response: ok(auditEntriesSchema) },
    },
    async function auditEntries(request) {
      const { before, limit, since, ...filter } = request.query;
      const size = await ledger.size();
      const page = await ledger.entries(
        { ...filter, ...(since === undefined ? {} : { since: new Date(since).toISOString() }) },
        { limit, ...(before === undefined ? {} : { before }) },
      );
      return { ...page, size };
    },
  );

  server.get<{ Params: EntryParams }>(
    '/api/v1/audit/entries/:id',
    {
      config: { access: 'viewer' },
      schema: { params: jsonSchema(auditEntryParamsSchema), response: ok(auditEntrySchema) },
    },
    async function auditEntry(request) {
      return requireEntry(request.params.id);
    },
  );

  server.get<{ Params: EntryParams; Reply: ProofBundle }>(
    '/api/v1/audit/entries/:id/proof',
    {
      config: { access: 'viewer' },
      schema: { params: jsonSchema(auditEntryParamsSchema), response: ok(auditBundleSchema) },
    },
    async function auditProof(request) {
      const { id } = request.params;
      await requireEntry(id);
      const checkpoint = await ledger.latestCheckpoint();
      if (checkpoint === undefined || checkpoint.size <= id) {
        throw new ConflictError(
          `audit entry ${id} is not covered by a signed checkpoint yet`,
          'checkpoints are made every N entries or T seconds; ask again shortly',
        );
      }
      return proveEntry(ledger, id);
    },
  );

  server.get(
    '/api/v1/audit/checkpoint',
    {
      config: { access: 'viewer' },
      schema: {
        response: { 200: { content: { 'text/plain': { schema: { type: 'string' } } } }, ...errors },
      },
    },
    async function auditCheckpoint(_request, reply) {
      const checkpoint = await ledger.latestCheckpoint();
      if (checkpoint === undefined) {
        throw new NotFoundError(
          'the ledger has no signed checkpoint yet',
          'checkpoints are made every N entries or T seconds',
        );
      }
      reply.header('content-type', 'text/plain; charset=utf-8');
      return checkpoint.note;
    },
  );

  server.get<{ Querystring: ConsistencyQuery }>(
    '/api/v1/audit/consistency',
    {
      config: { access: 'viewer' },
      schema: { querystring: jsonSchema(auditConsistencyQuerySchema), response: ok(auditConsistencySchema) },
    },
    async function auditConsistency(request) {
      const to = request.query.to ?? (await ledger.size());
      const proof = await ledger.consistencyProof(request.query.from, to);
      return { from: request.query.from, to, proof: proof.map((hash) => hash.toString('base64')) };
    },
  );

  server.get(
    '/api/v1/audit/key',
    { config: { access: 'viewer' }, schema: { response: ok(auditKeySchema) } },
    async function auditKey() {
      if (options.verifierKey === undefined) throw new NotFoundError('this controller signs no checkpoints');
      return { key: options.verifierKey };
    },
  );
}
