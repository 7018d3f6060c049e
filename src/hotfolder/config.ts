// Hot-folder settings, keyed by their environment names (a section for src/config).
import type { z } from 'zod';
import { envBool, envInt, envNumber, envString } from '../config/env-types.js';

/** Add to the settings sections in src/config/index.ts. */
export const hotfolderEnvSchema = {
  /** The folder a scanner writes PDFs into; unset disables the hot folder. */
  HOTFOLDER_DIR: envString(),
  /** A file counts as written once unchanged this long. */
  HOTFOLDER_STABLE_MS: envInt(2000, 50, 600_000),
  /** A file still changing after this long is refused into failed/. */
  HOTFOLDER_MAX_WRITE_SECONDS: envNumber(600, 0.1, 86_400),
  /** How long a file that is not yet a readable PDF, or has no number yet (sidecar to come), may wait. */
  HOTFOLDER_GRACE_SECONDS: envNumber(60, 0.05, 86_400),
  /** Full re-scan of the folder: the safety net for file systems that miss events. */
  HOTFOLDER_RESCAN_SECONDS: envNumber(30, 0.05, 86_400),
  /** How often the result files of submitted faxes are brought up to date. */
  HOTFOLDER_STATUS_POLL_SECONDS: envNumber(10, 0.05, 86_400),
  /** Poll instead of inotify (network shares that deliver no events). */
  HOTFOLDER_POLLING: envBool(false),
};

export type HotfolderSettings = { [K in keyof typeof hotfolderEnvSchema]: z.output<(typeof hotfolderEnvSchema)[K]> };
