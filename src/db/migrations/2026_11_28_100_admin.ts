// Admin: key rotation with a grace period (the previous token's hash and until when it works), removed documents, audit filters.
import type { AnyDb } from './util.js';

export async function up(db: AnyDb): Promise<void> {
  await db.schema.alterTable('api_keys').addColumn('prev_token_hash', 'text').execute();
  await db.schema.alterTable('api_keys').addColumn('prev_expires_at', 'text').execute();
  await db.schema.alterTable('api_keys').addColumn('rotated_at', 'text').execute();
  await db.schema.alterTable('fax_jobs').addColumn('document_removed_at', 'text').execute();
  // The cleanup looks for finished jobs by age; the admin lists filter by backend and date.
  await db.schema.createIndex('fax_jobs_completed').on('fax_jobs').columns(['completed_at']).execute();
  await db.schema.createIndex('audit_events_subject').on('audit_events').columns(['subject', 'seq']).execute();
  await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['actor', 'seq']).execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropIndex('audit_events_actor').ifExists().execute();
  await db.schema.dropIndex('audit_events_subject').ifExists().execute();
  await db.schema.dropIndex('fax_jobs_completed').ifExists().execute();
  await db.schema.alterTable('fax_jobs').dropColumn('document_removed_at').execute();
  await db.schema.alterTable('api_keys').dropColumn('rotated_at').execute();
  await db.schema.alterTable('api_keys').dropColumn('prev_expires_at').execute();
  await db.schema.alterTable('api_keys').dropColumn('prev_token_hash').execute();
}
