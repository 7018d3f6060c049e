// The newest migration name, for status assertions.
import { migrations } from '../../src/db/migrate.js';

export const latestMigration = (): string => Object.keys(migrations).sort().at(-1)!;
