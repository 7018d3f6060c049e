// Builds the outbound backend named by FAX_BACKEND.
import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import { createAsteriskBackend } from './asterisk/backend.js';
import { createCloudBackend, type CloudBackendDeps } from './cloud/providers.js';
import { createFreeswitchBackend } from './freeswitch/backend.js';
import { PbxConfigError } from './pbx/backend.js';
import { SandboxBackend } from './sandbox/index.js';
import type { FaxBackend } from './types.js';

/** What backends need from the rest of the service (given by services.ts). */
export type BackendDeps = CloudBackendDeps;

export class BackendConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendConfigError';
  }
}

export function createBackend(s: Settings, log: Logger, deps?: BackendDeps): FaxBackend {
  const name = s.FAX_BACKEND;
  switch (name) {
    case 'sandbox':
      return new SandboxBackend({ dataDir: s.dataDir, delayMs: s.SANDBOX_DELAY_SECONDS * 1000, capacity: s.SANDBOX_MAX_CHANNELS, log: log.child({ backend: 'sandbox' }) });
    case 'sip':
    case 'freeswitch':
      try {
        return name === 'sip' ? createAsteriskBackend(s, log) : createFreeswitchBackend(s, log);
      } catch (err) {
        if (err instanceof PbxConfigError) throw new BackendConfigError(err.message);
        throw err;
      }
    default: {
      // phaxio, sinch, signalwire, or a manifest id (already loaded and checked by buildCloudProviders).
      const cloud = deps ? createCloudBackend(s, log, deps) : null;
      if (cloud) return cloud;
      throw new BackendConfigError(`FAX_BACKEND=${name} is not available in this build (available: sandbox, sip, freeswitch, phaxio, sinch, signalwire, or a manifest id)`);
    }
  }
}
