// The controller's repositories over Kysely: environment and app status, the applied inventory (and the
// last revisions applied per app), sync history (the last 100 per environment), API tokens, and the
// rollouts' records, pins and quarantined revisions. Portable SQL only, so PostgreSQL can follow.
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
  type RolloutsTable,
  type SyncHistoryTable,
} from './db.js';
import { migrateToLatest } from './migrations.js';

/** Syncs kept per environment; older ones are deleted in the transaction that records a new one. */
export const HISTORY_LIMIT = 100;

/** Applied revisions kept per app, for `plumbline rollback`. */
export const REVISIONS_KEPT = 20;

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

/** A rollout's stored state: its record and the App it rolls out, as written (checked by their reader). */
export interface StoredRollout {
  readonly environment: string;
  readonly app: string;
  readonly record: unknown;
  readonly desired: unknown;
  readonly updatedAt: string;
}

/** An app held at a revision by a rollback. */
export interface Pin {
  readonly environment: string;
  readonly app: string;
  readonly revision: string;
  readonly pinnedBy: string;
  readonly reason: string;
  readonly createdAt: string;
}

/** A revision that failed its rollout; `specHash` is what auto-sync refuses to deploy again. */
export interface Quarantined {
  readonly environment: string;
  readonly app: string;
  readonly revision: string;
  readonly specHash: string;
  readonly reason: string;
  readonly createdAt: string;
}

/** One revision applied to an app. */
export interface AppliedRevision {
  readonly environment: string;
  readonly app: string;
  readonly revision: string;
  readonly specHash: string;
  readonly spec: AppSpec;
  readonly appliedAt: string;
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

  /** Records what was applied, and appends it to the app's applied revisions (what a rollback goes back to). */
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
    await this.transaction(async (store) => {
      await store.db
        .insertInto('inventory')
        .values(row)
        .onConflict((oc) => oc.columns(['environment', 'name']).doUpdateSet(changes))
        .execute();
      await store.#appendRevision(row);
    });
  }

  /** Appends an applied revision unless it is the app's newest already; keeps the last REVISIONS_KEPT. */
  async #appendRevision(row: {
    environment: string;
    name: string;
    revision: string;
    spec_hash: string;
    spec: string;
    applied_at: string;
  }): Promise<void> {
    const last = await this.db
      .selectFrom('app_revisions')
      .select(['seq', 'revision', 'spec_hash'])
      .where('environment', '=', row.environment)
      .where('app', '=', row.name)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (last !== undefined && last.revision === row.revision && last.spec_hash === row.spec_hash) return;
    const seq = Number(last?.seq ?? 0) + 1;
    await this.db
      .insertInto('app_revisions')
      .values({
        environment: row.environment,
        app: row.name,
        seq,
        revision: row.revision,
        spec_hash: row.spec_hash,
        spec: row.spec,
        applied_at: row.applied_at,
      })
      .execute();
    await this.db
      .deleteFrom('app_revisions')
      .where('environment', '=', row.environment)
      .where('app', '=', row.name)
      .where('seq', '<=', seq - REVISIONS_KEPT)
      .execute();
  }

  /** The revisions applied to an app, newest first. */
  async listAppliedRevisions(environment: string, app: string): Promise<AppliedRevision[]> {
    const rows = await this.db
      .selectFrom('app_revisions')
      .selectAll()
      .where('environment', '=', environment)
      .where('app', '=', app)
      .orderBy('seq', 'desc')
      .execute();
    return rows.map(
      (row): AppliedRevision => ({
        environment: row.environment,
        app: row.app,
        revision: row.revision,
        specHash: row.spec_hash,
        spec: parseJson<AppSpec>(row.spec),
        appliedAt: row.applied_at,
      }),
    );
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

  // --- rollouts, pins, quarantine ---

  async putRollout(rollout: Omit<StoredRollout, 'updatedAt'>): Promise<void> {
    const row = {
      environment: rollout.environment,
      app: rollout.app,
      record: JSON.stringify(rollout.record),
      desired: JSON.stringify(rollout.desired),
      updated_at: this.#timestamp(),
    };
    const { environment: _environment, app: _app, ...changes } = row;
    await this.db
      .insertInto('rollouts')
      .values(row)
      .onConflict((oc) => oc.columns(['environment', 'app']).doUpdateSet(changes))
      .execute();
  }

  async getRollout(environment: string, app: string): Promise<StoredRollout | undefined> {
    const row = await this.db
      .selectFrom('rollouts')
      .selectAll()
      .where('environment', '=', environment)
      .where('app', '=', app)
      .executeTakeFirst();
    return row === undefined ? undefined : rolloutFromRow(row);
  }

  async listRollouts(): Promise<StoredRollout[]> {
    const rows = await this.db
      .selectFrom('rollouts')
      .selectAll()
      .orderBy('environment')
      .orderBy('app')
      .execute();
    return rows.map(rolloutFromRow);
  }

  async deleteRollout(environment: string, app: string): Promise<void> {
    await this.db
      .deleteFrom('rollouts')
      .where('environment', '=', environment)
      .where('app', '=', app)
      .execute();
  }

  async putPin(pin: Omit<Pin, 'createdAt'>): Promise<Pin> {
    const row = {
      environment: pin.environment,
      app: pin.app,
      revision: pin.revision,
      pinned_by: pin.pinnedBy,
      reason: pin.reason,
      created_at: this.#timestamp(),
    };
    const { environment: _environment, app: _app, ...changes } = row;
    await this.db
      .insertInto('pins')
      .values(row)
      .onConflict((oc) => oc.columns(['environment', 'app']).doUpdateSet(changes))
      .execute();
    return { ...pin, createdAt: row.created_at };
  }

  async getPin(environment: string, app: string): Promise<Pin | undefined> {
    const row = await this.db
      .selectFrom('pins')
      .selectAll()
      .where('environment', '=', environment)
      .where('app', '=', app)
      .executeTakeFirst();
    return row === undefined
      ? undefined
      : {
          environment: row.environment,
          app: row.app,
          revision: row.revision,
          pinnedBy: row.pinned_by,
          reason: row.reason,
          createdAt: row.created_at,
        };
  }

  async deletePin(environment: string, app: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('pins')
      .where('environment', '=', environment)
      .where('app', '=', app)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async putQuarantine(entry: Omit<Quarantined, 'createdAt'>): Promise<Quarantined> {
    const row = {
      environment: entry.environment,
      app: entry.app,
      revision: entry.revision,
      spec_hash: entry.specHash,
      reason: entry.reason,
      created_at: this.#timestamp(),
    };
    const { environment: _environment, app: _app, spec_hash: _hash, ...changes } = row;
    await this.db
      .insertInto('quarantine')
      .values(row)
      .onConflict((oc) => oc.columns(['environment', 'app', 'spec_hash']).doUpdateSet(changes))
      .execute();
    return { ...entry, createdAt: row.created_at };
  }

  /** The app's quarantined revisions, newest first. */
  async listQuarantine(environment: string, app: string): Promise<Quarantined[]> {
    const rows = await this.db
      .selectFrom('quarantine')
      .selectAll()
      .where('environment', '=', environment)
      .where('app', '=', app)
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map(
      (row): Quarantined => ({
        environment: row.environment,
        app: row.app,
        revision: row.revision,
        specHash: row.spec_hash,
        reason: row.reason,
        createdAt: row.created_at,
      }),
    );
  }

  /** Lifts the quarantine of one spec hash, or of every revision of the app. */
  async deleteQuarantine(environment: string, app: string, specHash?: string): Promise<number> {
    let query = this.db
      .deleteFrom('quarantine')
      .where('environment', '=', environment)
      .where('app', '=', app);
    if (specHash !== undefined) query = query.where('spec_hash', '=', specHash);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows);
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

function rolloutFromRow(row: Selectable<RolloutsTable>): StoredRollout {
  return {
    environment: row.environment,
    app: row.app,
    record: parseJson<unknown>(row.record),
    desired: parseJson<unknown>(row.desired),
    updatedAt: row.updated_at,
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
