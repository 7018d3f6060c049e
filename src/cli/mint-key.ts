// Mints an API key straight into the configured database (recovery when no admin key is at hand).
// Usage: node dist/src/cli/mint-key.js --name "billing app" --scopes fax:send,fax:read [--rate-limit 60] [--expires 2027-01-01]
import { parseArgs } from 'node:util';
import { ApiKeys } from '../auth/api-keys.js';
import { SCOPES, isScope } from '../auth/scopes.js';
import { ConfigError, loadSettings } from '../config/index.js';
import { openDb } from '../db/connect.js';
import { migrateToLatest } from '../db/migrate.js';
import { createLogger } from '../log.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      name: { type: 'string' },
      scopes: { type: 'string', default: 'fax:send,fax:read' },
      'rate-limit': { type: 'string' },
      expires: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.name) {
    console.error(`usage: mint-key --name NAME [--scopes ${SCOPES.join(',')}] [--rate-limit N] [--expires ISO-DATE]`);
    return values.help ? 0 : 2;
  }
  const scopes = values.scopes.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = scopes.filter((s) => !isScope(s));
  if (bad.length > 0) {
    console.error(`unknown scopes: ${bad.join(', ')} (known: ${SCOPES.join(', ')})`);
    return 2;
  }
  const rate = values['rate-limit'] === undefined ? null : Number(values['rate-limit']);
  if (rate !== null && (!Number.isInteger(rate) || rate < 0)) {
    console.error('--rate-limit must be a whole number of requests per minute');
    return 2;
  }
  let expiresAt: string | null = null;
  if (values.expires !== undefined) {
    const d = new Date(values.expires);
    if (Number.isNaN(d.getTime())) {
      console.error('--expires must be a date, e.g. 2027-01-01');
      return 2;
    }
    expiresAt = d.toISOString();
  }
  let settings;
  try {
    settings = loadSettings();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 78;
    }
    throw err;
  }
  const log = createLogger('warn');
  const db = openDb({ url: settings.DATABASE_URL, dataDir: settings.dataDir });
  try {
    await migrateToLatest(db);
    const created = await new ApiKeys(db, { defaultRateLimit: 0 }, log).create({ name: values.name, scopes, rateLimitPerMinute: rate, expiresAt });
    // The token goes to stdout only (so it can be piped into a secret store), and is shown this once.
    process.stdout.write(created.token + '\n');
    console.error(`created key ${created.id} (${values.name}) with scopes ${scopes.join(', ')}`);
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`mint-key failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
