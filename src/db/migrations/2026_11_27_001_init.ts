// First schema: outbound jobs and their attempts, API keys, idempotency keys, inbound faxes, audit events.
import { sql } from 'kysely';
import { isPostgres, type AnyDb } from './util.js';

export async function up(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('fax_jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('owner_key_id', 'text')
    .addColumn('to_number', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('pages', 'integer')
    .addColumn('backend', 'text', (c) => c.notNull())
    .addColumn('provider_sid', 'text')
    .addColumn('source', 'text', (c) => c.notNull().defaultTo('api'))
    .addColumn('document_path', 'text', (c) => c.notNull())
    .addColumn('document_sha256', 'text', (c) => c.notNull())
    .addColumn('document_bytes', 'integer', (c) => c.notNull())
    .addColumn('attempt_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('deadline_at', 'text', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'text')
    .addColumn('dest_lock', 'text', (c) => c.unique())
    .addColumn('failure_class', 'text')
    .addColumn('pdf_token_hash', 'text')
    .addColumn('pdf_token_expires_at', 'text')
    .addColumn('callback_url', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('completed_at', 'text')
    .execute();
  await db.schema.createIndex('fax_jobs_due').on('fax_jobs').columns(['status', 'next_attempt_at', 'created_at']).execute();
  await db.schema.createIndex('fax_jobs_owner').on('fax_jobs').columns(['owner_key_id', 'created_at']).execute();
  await db.schema.createIndex('fax_jobs_lease').on('fax_jobs').columns(['lease_owner', 'status']).execute();
  await db.schema.createIndex('fax_jobs_created').on('fax_jobs').column('created_at').execute();

  await db.schema
    .createTable('fax_attempts')
    .addColumn('job_id', 'text', (c) => c.notNull().references('fax_jobs.id').onDelete('cascade'))
    .addColumn('attempt_no', 'integer', (c) => c.notNull())
    .addColumn('backend', 'text', (c) => c.notNull())
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text')
    .addColumn('failure_class', 'text')
    .addColumn('error', 'text')
    .addColumn('cause', 'text')
    .addColumn('call_id', 'text')
    .addColumn('provider_sid', 'text')
    .addColumn('pages', 'integer')
    .addColumn('details', 'text')
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('dialed_at', 'text')
    .addColumn('ended_at', 'text')
    .addPrimaryKeyConstraint('fax_attempts_pk', ['job_id', 'attempt_no'])
    .execute();
  await db.schema.createIndex('fax_attempts_call').on('fax_attempts').column('call_id').execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('rate_limit_per_minute', 'integer')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('expires_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('owner_key_id', 'text', (c) => c.notNull())
    .addColumn('idem_key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['owner_key_id', 'idem_key'])
    .execute();

  await db.schema
    .createTable('inbound_faxes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('source_uid', 'text', (c) => c.notNull())
    .addColumn('to_number', 'text')
    .addColumn('from_number', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('pages', 'integer')
    .addColumn('error', 'text')
    .addColumn('tiff_path', 'text')
    .addColumn('pdf_path', 'text')
    .addColumn('mailbox', 'text')
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('inbound_faxes_source_uid', ['source', 'source_uid'])
    .execute();
  await db.schema.createIndex('inbound_faxes_received').on('inbound_faxes').column('received_at').execute();

  const seq = isPostgres(db) ? sql`bigserial primary key` : sql`integer primary key autoincrement`;
  await sql`create table audit_events (
    seq ${seq},
    ts text not null,
    type text not null,
    actor text,
    subject text,
    instance_id text,
    data text
  )`.execute(db);
  await db.schema.createIndex('audit_events_ts').on('audit_events').column('ts').execute();
  await db.schema.createIndex('audit_events_type').on('audit_events').columns(['type', 'ts']).execute();
}

export async function down(db: AnyDb): Promise<void> {
  for (const t of ['audit_events', 'inbound_faxes', 'idempotency_keys', 'api_keys', 'fax_attempts', 'fax_jobs']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
