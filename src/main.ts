// Process entry: settings → logger → services → HTTP; SIGTERM/SIGINT stop it gracefully.
import { loadLayeredSettings } from './admin/settings-source.js';
import { ConfigError } from './config/index.js';
import { createLogger } from './log.js';
import { startApp } from './services.js';

async function main(): Promise<void> {
  let settings;
  try {
    // The environment over FAXBOT_ENV_FILE over the plugin config store (FAXBOT_CONFIG_PATH).
    settings = loadLayeredSettings(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`faxbot: ${err.message}`);
      process.exit(78);
    }
    throw err;
  }
  const log = createLogger(settings.LOG_LEVEL);
  let app;
  try {
    app = await startApp(settings, log, { environment: () => process.env, exit: (code) => process.exit(code) });
  } catch (err) {
    log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'faxbot could not start');
    process.exit(1);
  }
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down: no new work; calls in flight are reconciled at the next start');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: String(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

void main();
