// The controller's repositories over Kysely: environment and app status, the applied inventory, sync
// history (the last 100 per environment) and API tokens. Portable SQL only, so PostgreSQL can follow.
import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { type AppliedApp, type AppSpec, PHASES, type Phase, type Plan } from '../gitops/types.js';
import {
  type ApiTokensTable,
  type AppsTable,
  type Database,
  type EnvironmentsTable,
  type OpenDatabaseOptions,
  openDatabase,
  type SyncHistoryTable,
} from './db.js';
import { migrateToLatest } from './migrations.js';

/** Syncs kept per environment; older ones are deleted in the transaction that records a new one. */
export const HISTORY_LIMIT = 100;

export const SYNC_RESULTS = ['succeeded', 'failed', 'skipped'] as const;
export type SyncResult = (typeof SYNC_RESULTS)[number];

/** Ordered: each role can do everything the ones before it can. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** A Kubernetes-style status condition on an environment (`Ready`, `Reconciling`, `Stalled`…). */
export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  /** ISO 8601: when the status last changed. */
  readonly at: string;
}

export interface EnvironmentState {
  readonly name: string;
  readonly desiredRevision: string | null;
  readonly liveRevision: string | null;
  readonly phase: Phase;
  readonly conditions: readonly Condition[];
  readonly updatedAt: string;
}

export interface AppState {
  readonly environment: string;
  readonly name: string;
  readonly desiredRevision: string | null;
  readonly liveRevision: string | null;
  readonly phase: Phase;
  readonly message: string;
  readonly spec: AppSpec | null;
  readonly specHash: string | null;
  readonly updatedAt: string;
}

export interface PlanSummary {
  readonly create: number;
  readonly update: number;
  readonly delete: number;
  readonly unchanged: number;
  readonly withheld: number;
}

export interface SyncRecord {
  readonly id: string;
  readonly environment: string;
  readonly revision: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly result: SyncResult;
  readonly reason: string;
  readonly message: string;
  readonly planSummary: PlanSummary;
}

export interface ApiToken {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
}

/** A stored token with its hash, for verification only; never return it from the API. */
export interface ApiTokenWithHash extends ApiToken {
  /** Hex sha256 of the token. */
  readonly tokenHash: string;
}

export interface ControllerStoreOptions {
  /** The clock for `updated_at` and friends (tests pin it). */
  readonly now?: () => Date;
}

/** The counts of a plan's steps, as sync history keeps them. */
export function summarisePlan(plan: Plan): PlanSummary {
  const count = (action: string): number => plan.steps.filter((step) => step.action === action).length;
  return {
    create: count('create'),
    update: count('update'),
    delete: count('delete'),
    unchanged: count('unchanged'),
    withheld: plan.withheld.length,
  };
}

/** Every repository of the controller's state, over one Kysely instance or one transaction. */
export class ControllerStore {
  readonly db: Kysely<Database>;
  readonly #now: () => Date;

  constructor(db: Kysely<Database>, options: ControllerStoreOptions = {}) {
    this.db = db;
    this.#now = options.now ?? (() => new Date());
  }

  #timestamp(): string {
    return this.#now().toISOString();
  }

  /**
   * Runs `fn` with a store bound to one transaction: everything it writes commits together or not at all.
   * Inside a transaction already, `fn` joins it.
   */
  async transaction<T>(fn: (store: ControllerStore) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    return this.db.transaction().execute((trx) => fn(new ControllerStore(trx, { now: this.#now })));
  }

  /** Closes the database. */
  async close(): Promise<void> {
    await this.db.destroy();
  }

  // --- environments ---

  async putEnvironment(state: Omit<EnvironmentState, 'updatedAt'>): Promise<EnvironmentState> {
    const row: EnvironmentsTable = {
      name: state.name,
      desired_revision: state.desiredRevision,
      live_revision: state.liveRevision,
      phase: state.phase,
      conditions: JSON.stringify(state.conditions),
      updated_at: this.#timestamp(),
    };
    const { name: _name, ...changes } = row;
    await this.db
      .insertInto('environments')
      .values(row)
      .onConflict((oc) => oc.column('name').doUpdateSet(changes))
      .execute();
    return environmentFromRow(row);
  }

  async getEnvironment(name: string): Promise<EnvironmentState | undefined> {
    const row = await this.db
      .selectFrom('environments')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : environmentFromRow(row);
  }

  async listEnvironments(): Promise<EnvironmentState[]> {
    const rows = await this.db.selectFrom('environments').selectAll().orderBy('name').execute();
    return rows.map(environmentFromRow);
  }

  /** Deletes the environment with its apps, inventory and history (foreign keys cascade). */
  async deleteEnvironment(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('environments').where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  // --- apps ---

  async putApp(state: Omit<AppState, 'updatedAt'>): Promise<AppState> {
    const row: AppsTable = {
      environment: state.environment,
      name: state.name,
      desired_revision: state.desiredRevision,
      live_revision: state.liveRevision,
      phase: state.phase,
      message: state.message,
      spec: state.spec === null ? null : JSON.stringify(state.spec),
      spec_hash: state.specHash,
      updated_at: this.#timestamp(),
    };
    const { environment: _environment, name: _name, ...changes } = row;
    await this.db
      .insertInto('apps')
      .values(row)
      .onConflict((oc) => oc.columns(['environment', 'name']).doUpdateSet(changes))
      .execute();
    return appFromRow(row);
  }

  async getApp(environment: string, name: string): Promise<AppState | undefined> {
    const row = await this.db
      .selectFrom('apps')
      .selectAll()
      .where('environment', '=', environment)
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : appFromRow(row);
  }

  async listApps(environment: string): Promise<AppState[]> {
    const rows = await this.db
      .selectFrom('apps')
      .selectAll()
      .where('environment', '=', environment)
      .orderBy('name')
      .execute();
    return rows.map(appFromRow);
  }

  async deleteApp(environment: string, name: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('apps')
      .where('environment', '=', environment)
      .where('name', '=', name)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  // --- inventory: what was applied ---

  async listApplied(environment: string): Promise<AppliedApp[]> {
    const rows = await this.db
      .selectFrom('inventory')
      .selectAll()
      .where('environment', '=', environment)
      .orderBy('name')
      .execute();
    return rows.map(
      (row): AppliedApp => ({
        environment: row.environment,
        name: row.name,
        revision: row.revision,
        specHash: row.spec_hash,
        spec: parseJson<AppSpec>(row.spec),
      }),
    );
  }

  async putApplied(app: AppliedApp): Promise<void> {
    const row = {
      environment: app.environment,
      name: app.name,
      revision: app.revision,
      spec_hash: app.specHash,
      spec: JSON.stringify(app.spec),
      applied_at: this.#timestamp(),
    };
    const { environment: _environment, name: _name, ...changes } = row;
    await this.db
      .insertInto('inventory')
      .values(row)
      .onConflict((oc) => oc.columns(['environment', 'name']).doUpdateSet(changes))
      .execute();
  }

  async removeApplied(environment: string, name: string): Promise<void> {
    await this.db
      .deleteFrom('inventory')
      .where('environment', '=', environment)
      .where('name', '=', name)
      .execute();
  }

  /** Replaces an environment's whole inventory in one transaction. */
  async replaceInventory(environment: string, apps: readonly AppliedApp[]): Promise<void> {
    await this.transaction(async (store) => {
      await store.db.deleteFrom('inventory').where('environment', '=', environment).execute();
      for (const app of apps) {
        if (app.environment !== environment) {
          throw new Error(`inventory of ${environment} given an app of ${app.environment}`);
        }
        await store.putApplied(app);
      }
    });
  }

  // --- sync history ---

  /**
   * Records a finished sync and deletes all but the newest `HISTORY_LIMIT` of its environment, in one
   * transaction. The id defaults to a fresh UUID (pass the `syncId` the API handed out).
   */
  async recordSync(entry: Omit<SyncRecord, 'id'> & { readonly id?: string }): Promise<SyncRecord> {
    const record: SyncRecord = { ...entry, id: entry.id ?? randomUUID() };
    await this.transaction(async (store) => {
      const last = await store.db
        .selectFrom('sync_history')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .where('environment', '=', record.environment)
        .executeTakeFirst();
      const seq = Number(last?.seq ?? 0) + 1;
      await store.db
        .insertInto('sync_history')
        .values({
          id: record.id,
          environment: record.environment,
          seq,
          revision: record.revision,
          started_at: record.startedAt,
          finished_at: record.finishedAt,
          result: record.result,
          reason: record.reason,
          message: record.message,
          plan_summary: JSON.stringify(record.planSummary),
        })
        .execute();
      await store.db
        .deleteFrom('sync_history')
        .where('environment', '=', record.environment)
        .where('seq', '<=', seq - HISTORY_LIMIT)
        .execute();
    });
    return record;
  }

  /** The newest syncs first. */
  async listHistory(environment: string, limit = HISTORY_LIMIT): Promise<SyncRecord[]> {
    const rows = await this.db
      .selectFrom('sync_history')
      .selectAll()
      .where('environment', '=', environment)
      .orderBy('seq', 'desc')
      .limit(Math.max(0, Math.min(limit, HISTORY_LIMIT)))
      .execute();
    return rows.map(syncFromRow);
  }

  // --- API tokens ---

  async insertToken(token: {
    readonly id: string;
    readonly name: string;
    readonly role: Role;
    readonly tokenHash: string;
  }): Promise<ApiToken> {
    const row: ApiTokensTable = {
      id: token.id,
      name: token.name,
      role: token.role,
      token_hash: token.tokenHash,
      created_at: this.#timestamp(),
      last_used_at: null,
    };
    await this.db.insertInto('api_tokens').values(row).execute();
    return tokenFromRow(row);
  }

  /** The token whose hash is `tokenHash`, hash included; callers confirm it with a constant-time compare. */
  async findTokenByHash(tokenHash: string): Promise<ApiTokenWithHash | undefined> {
    const row = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row === undefined ? undefined : { ...tokenFromRow(row), tokenHash: row.token_hash };
  }

  async listTokens(): Promise<ApiToken[]> {
    const rows = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(tokenFromRow);
  }

  async touchToken(id: string): Promise<void> {
    await this.db
      .updateTable('api_tokens')
      .set({ last_used_at: this.#timestamp() })
      .where('id', '=', id)
      .execute();
  }

  async deleteToken(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('api_tokens').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

/** Opens the database under `dataDir`, migrates it to the newest schema, and returns the store. */
export async function openControllerStore(
  options: OpenDatabaseOptions & ControllerStoreOptions,
): Promise<ControllerStore> {
  const db = openDatabase(options);
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new ControllerStore(db, options);
}

// Rows are our own writes: parsed without a schema (trust inside), typed at this one edge.
function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** Narrows a stored string to its union, loudly: a value outside it means a row we did not write. */
function oneOf<const T extends string>(values: readonly T[], value: string, what: string): T {
  const found = values.find((candidate) => candidate === value);
  if (found === undefined) throw new Error(`the controller database holds an unknown ${what} "${value}"`);
  return found;
}

function environmentFromRow(row: Selectable<EnvironmentsTable>): EnvironmentState {
  return {
    name: row.name,
    desiredRevision: row.desired_revision,
    liveRevision: row.live_revision,
    phase: oneOf(PHASES, row.phase, 'phase'),
    conditions: parseJson<Condition[]>(row.conditions),
    updatedAt: row.updated_at,
  };
}

function appFromRow(row: Selectable<AppsTable>): AppState {
  return {
    environment: row.environment,
    name: row.name,
    desiredRevision: row.desired_revision,
    liveRevision: row.live_revision,
    phase: oneOf(PHASES, row.phase, 'phase'),
    message: row.message,
    spec: row.spec === null ? null : parseJson<AppSpec>(row.spec),
    specHash: row.spec_hash,
    updatedAt: row.updated_at,
  };
}

function syncFromRow(row: Selectable<SyncHistoryTable>): SyncRecord {
  return {
    id: row.id,
    environment: row.environment,
    revision: row.revision,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    result: oneOf(SYNC_RESULTS, row.result, 'sync result'),
    reason: row.reason,
    message: row.message,
    planSummary: parseJson<PlanSummary>(row.plan_summary),
  };
}

function tokenFromRow(row: Selectable<ApiTokensTable>): ApiToken {
  return {
    id: row.id,
    name: row.name,
    role: oneOf(ROLES, row.role, 'role'),
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}
