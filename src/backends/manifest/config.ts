// Manifest settings keyed by environment name (a section for src/config); each manifest names its own variables.
import { envString } from '../../config/env-types.js';

/** Add to the settings sections in src/config/index.ts. */
export const manifestEnvSchema = {
  /** Directory of *.json provider manifests (loadManifestDir); unset = no manifest providers. */
  MANIFEST_DIR: envString(),
};
