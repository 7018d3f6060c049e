// Manifest settings keyed by environment name (a section for src/config); each manifest names its own variables.
import { envInt, envString } from '../../config/env-types.js';

/** Add to the settings sections in src/config/index.ts. */
export const manifestEnvSchema = {
  /** Directory of *.json provider manifests (loadManifestDir); unset = no manifest providers. */
  MANIFEST_DIR: envString(),
  /** Faxes in flight at the manifest provider at most (per instance). */
  MANIFEST_MAX_CONCURRENT: envInt(10, 1, 1000),
  /** Overrides the manifest's poll.intervalSeconds (0 = the manifest's own value; no poll section = callbacks only). */
  MANIFEST_STATUS_POLL_SECONDS: envInt(0, 0, 86_400),
};
