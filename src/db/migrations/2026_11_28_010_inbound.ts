// Inbound ingest state (claim lease, what the PBX reported, where the files went), webhook delivery columns, PDF tokens.
import type { AnyDb } from './util.js';

const INBOUND_COLUMNS: [string, 'text' | 'integer'][] = [
  // What the PBX or provider said: 'success', 'failed', or NULL when nobody said (a TIFF found alone in the spool).
  ['result', 'text'],
  ['reported_pages', 'integer'],
  ['remote_station_id', 'text'],
  ['size_bytes', 'integer'],
  ['pdf_sha256', 'text'],
  // The TIFF as found in the spool (local path), kept so a restart can finish an interrupted ingest.
  ['spool_path', 'text'],
  ['quarantine_path', 'text'],
  // 'pending' (no document handled yet), 'processing' (claimed under a lease), 'done'.
  ['ingest_state', 'text'],
  ['lease_owner', 'text'],
  ['lease_expires_at', 'text'],
  // How the first report arrived: hook, sidecar, spool, event, callback.
  ['via', 'text'],
  ['note', 'text'],
  ['documents_removed_at', 'text'],
  // Webhook delivery: NULL (none configured), 'pending', 'delivered', 'failed'.
  ['notify_state', 'text'],
  ['notify_attempts', 'integer'],
  ['notify_next_at', 'text'],
  ['notify_lease_until', 'text'],
  ['notify_last_error', 'text'],
  ['notified_at', 'text'],
];

export async function up(db: AnyDb): Promise<void> {
  for (const [name, type] of INBOUND_COLUMNS) {
    await db.schema
      .alterTable('inbound_faxes')
      .addColumn(name, type, (c) => (name === 'ingest_state' ? c.notNull().defaultTo('done') : name === 'notify_attempts' ? c.notNull().defaultTo(0) : c))
      .execute();
  }
  await db.schema.createIndex('inbound_faxes_ingest').on('inbound_faxes').columns(['ingest_state', 'lease_expires_at']).execute();
  await db.schema.createIndex('inbound_faxes_notify').on('inbound_faxes').columns(['notify_state', 'notify_next_at']).execute();
  await db.schema.createIndex('inbound_faxes_to').on('inbound_faxes').columns(['to_number', 'received_at']).execute();
  await db.schema.createIndex('inbound_faxes_retention').on('inbound_faxes').columns(['documents_removed_at', 'received_at']).execute();

  await db.schema
    .createTable('inbound_pdf_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('inbound_id', 'text', (c) => c.notNull().references('inbound_faxes.id').onDelete('cascade'))
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('inbound_pdf_tokens_expiry').on('inbound_pdf_tokens').column('expires_at').execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('inbound_pdf_tokens').ifExists().execute();
  for (const idx of ['inbound_faxes_ingest', 'inbound_faxes_notify', 'inbound_faxes_to', 'inbound_faxes_retention']) {
    await db.schema.dropIndex(idx).ifExists().execute();
  }
  for (const [name] of [...INBOUND_COLUMNS].reverse()) await db.schema.alterTable('inbound_faxes').dropColumn(name).execute();
}
