// Applies the migrations in db/migrations at start-up; one list, both dialects.
import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './connect.js';
import * as m001 from './migrations/2026_11_27_001_init.js';
import * as mInbound from './migrations/2026_11_28_010_inbound.js';
import * as mAdmin from './migrations/2026_11_28_100_admin.js';
import * as mWebhooks from './migrations/2026_11_29_200_webhooks.js';

/** Every migration, by name; names sort in the order they must run. Add new files here. */
export const migrations: Record<string, Migration> = {
  '2026_11_27_001_init': m001,
  '2026_11_28_010_inbound': mInbound,
  '2026_11_28_100_admin': mAdmin,
  '2026_11_29_200_webhooks': mWebhooks,
};

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db: db.k, provider: new StaticProvider() });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** The newest migration applied (for diagnostics). */
export async function currentMigration(db: Db): Promise<string | null> {
  const migrator = new Migrator({ db: db.k, provider: new StaticProvider() });
  const all = await migrator.getMigrations();
  const applied = all.filter((m) => m.executedAt !== undefined);
  return applied.length > 0 ? applied[applied.length - 1]!.name : null;
}
