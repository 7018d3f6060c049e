// Builds the cloud provider adapters from the settings (no network): the backend uses one, the callback routes all.
import { readEnvFile, type Settings } from '../../config/index.js';
import type { Logger } from '../../log.js';
import { ManifestAdapter } from '../manifest/adapter.js';
import { loadManifestDirSync } from '../manifest/load.js';
import { createManifestProvider } from '../manifest/provider.js';
import { ManifestError } from '../manifest/load.js';
import { BUILT_IN_BACKENDS } from '../manifest/schema.js';
import { PhaxioAdapter } from '../phaxio/adapter.js';
import { PhaxioClient } from '../phaxio/client.js';
import { phaxioClientConfig, phaxioMissing } from '../phaxio/config.js';
import { SignalWireAdapter } from '../signalwire/adapter.js';
import { SignalWireClient } from '../signalwire/client.js';
import { signalWireClientConfig, signalWireMissing } from '../signalwire/config.js';
import { SinchAdapter } from '../sinch/adapter.js';
import { SinchClient } from '../sinch/client.js';
import { sinchClientConfig, sinchMissing } from '../sinch/config.js';
import type { FaxBackend } from '../types.js';
import { CloudBackend, type ProviderAdapter } from './backend.js';
import { publicBase, statusDeadlineMs } from './config.js';

export const CLOUD_BACKENDS = ['phaxio', 'sinch', 'signalwire'] as const;

export interface CloudProviders {
  phaxio: PhaxioAdapter;
  sinch: SinchAdapter;
  signalwire: SignalWireAdapter;
  /** The manifest provider FAX_BACKEND names, if it names one. */
  manifest: ManifestAdapter | null;
}

/** Thrown for a configuration the service cannot start with (unknown FAX_BACKEND, invalid manifest). */
export class CloudConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CloudConfigError';
  }
}

/** Names FAX_BACKEND may take besides manifest ids (cloud ones and those other areas build). */
const NOT_MANIFESTS: ReadonlySet<string> = new Set<string>(BUILT_IN_BACKENDS);

export function buildCloudProviders(s: Settings, log: Logger): CloudProviders {
  const base = publicBase(s);
  const timeoutMs = s.CLOUD_HTTP_TIMEOUT_SECONDS * 1000;
  const phaxio = new PhaxioAdapter({
    client: new PhaxioClient(phaxioClientConfig(s, { timeoutMs })),
    baseUrl: s.PHAXIO_BASE_URL ?? '',
    documentMode: s.PHAXIO_DOCUMENT_MODE,
    missing: phaxioMissing(s),
    publicBase: base,
  });
  const sinch = new SinchAdapter({
    client: new SinchClient(sinchClientConfig(s, { timeoutMs })),
    baseUrl: s.SINCH_BASE_URL ?? '',
    documentMode: s.SINCH_DOCUMENT_MODE,
    missing: sinchMissing(s),
    publicBase: base,
    basic: s.SINCH_INBOUND_BASIC_USER && s.SINCH_INBOUND_BASIC_PASS ? { user: s.SINCH_INBOUND_BASIC_USER, pass: s.SINCH_INBOUND_BASIC_PASS } : undefined,
  });
  const signalwire = new SignalWireAdapter({
    client: new SignalWireClient(signalWireClientConfig(s, { timeoutMs })),
    spaceUrl: s.SIGNALWIRE_SPACE_URL ?? '',
    missing: signalWireMissing(s),
    publicBase: base,
  });
  return { phaxio, sinch, signalwire, manifest: NOT_MANIFESTS.has(s.FAX_BACKEND) ? null : loadSelectedManifest(s, base, log) };
}

/**
 * FAX_BACKEND names a manifest: load MANIFEST_DIR and build that provider. A missing directory, an id
 * with no valid manifest (its file may be the invalid one) or a missing setting stops the start-up,
 * naming each problem. Other invalid manifests in the directory are only logged: they are not used.
 */
function loadSelectedManifest(s: Settings, base: string, log: Logger): ManifestAdapter {
  const id = s.FAX_BACKEND;
  if (!s.MANIFEST_DIR) {
    throw new CloudConfigError(
      `FAX_BACKEND=${id}: not a built-in backend (${BUILT_IN_BACKENDS.filter((b) => b !== 'asterisk').join(', ')}) and MANIFEST_DIR is not set, so no manifest provider can be loaded`,
    );
  }
  const loaded = loadManifestDirSync(s.MANIFEST_DIR);
  const m = loaded.manifests.get(id);
  if (!m) {
    const known = [...loaded.manifests.keys()];
    const lines = [
      `FAX_BACKEND=${id}: no valid manifest with this id in MANIFEST_DIR (${s.MANIFEST_DIR})${known.length > 0 ? `; valid ids: ${known.join(', ')}` : ''}`,
      ...loaded.errors,
    ];
    throw new CloudConfigError(lines.join('\n  - '));
  }
  if (loaded.errors.length > 0) log.warn({ problems: loaded.errors }, 'some manifests in MANIFEST_DIR are invalid and were not loaded');
  try {
    // Manifest settings are read like every other setting: the real environment over FAXBOT_ENV_FILE.
    return new ManifestAdapter(createManifestProvider(m, { ...readEnvFile(process.env), ...process.env }), base);
  } catch (err) {
    if (err instanceof ManifestError) throw new CloudConfigError(`FAX_BACKEND=${id}:\n  - ${err.issues.join('\n  - ')}`);
    throw err;
  }
}

/** What a cloud backend needs from the rest of the service. */
export interface CloudBackendDeps {
  /** PUBLIC_API_URL/fax/{id}/pdf?token=… with a fresh token. */
  documentUrl: (jobId: string) => Promise<string>;
  /** Whether the job is still in progress on this attempt. */
  attemptLive: (jobId: string, attemptNo: number) => Promise<boolean>;
  cloud: CloudProviders;
}

/** The backend for FAX_BACKEND=phaxio|sinch|signalwire|<manifest id>, or null for other names. */
export function createCloudBackend(s: Settings, log: Logger, deps: CloudBackendDeps): FaxBackend | null {
  const c = deps.cloud;
  let adapter: ProviderAdapter;
  let capacity: number;
  let pollSeconds: number;
  switch (s.FAX_BACKEND) {
    case 'phaxio':
      [adapter, capacity, pollSeconds] = [c.phaxio, s.PHAXIO_MAX_CONCURRENT, s.PHAXIO_STATUS_POLL_SECONDS];
      break;
    case 'sinch':
      [adapter, capacity, pollSeconds] = [c.sinch, s.SINCH_MAX_CONCURRENT, s.SINCH_STATUS_POLL_SECONDS];
      break;
    case 'signalwire':
      [adapter, capacity, pollSeconds] = [c.signalwire, s.SIGNALWIRE_MAX_CONCURRENT, s.SIGNALWIRE_STATUS_POLL_SECONDS];
      break;
    default: {
      if (!c.manifest || c.manifest.name !== s.FAX_BACKEND) return null;
      adapter = c.manifest;
      capacity = s.MANIFEST_MAX_CONCURRENT;
      pollSeconds = c.manifest.canPoll ? s.MANIFEST_STATUS_POLL_SECONDS || (c.manifest.provider.pollIntervalSeconds ?? 0) : 0;
    }
  }
  const pollMs = pollSeconds * 1000;
  warnIfUnreachable(s, adapter, pollMs, log);
  return new CloudBackend(adapter, {
    log: log.child({ backend: adapter.name }),
    capacity,
    pollIntervalMs: pollMs,
    deadlineMs: (pages) => statusDeadlineMs(s, pages),
    // Jobs cannot be older than their deadline; an hour more covers clock skew with the provider.
    lookbackMs: (s.FAX_JOB_DEADLINE_MINUTES + 60) * 60_000,
    documentUrl: deps.documentUrl,
    attemptLive: deps.attemptLive,
    tickMs: Math.min(1000, Math.max(100, Math.min(pollMs || 1000, statusDeadlineMs(s, 1)) / 4)),
  });
}

/** A provider cannot reach a loopback PUBLIC_API_URL: say so once, with what still works. */
function warnIfUnreachable(s: Settings, adapter: ProviderAdapter, pollMs: number, log: Logger): void {
  let host = '';
  try {
    host = new URL(publicBase(s)).hostname;
  } catch {
    return;
  }
  if (!/^(localhost|127\.|\[::1\]$|::1$|0\.0\.0\.0$)/.test(host)) return;
  const docs = adapter.documentMode === 'url' ? 'documents (sent by URL) and ' : '';
  log.warn(
    { publicApiUrl: publicBase(s), backend: adapter.name },
    `PUBLIC_API_URL points at this machine: ${adapter.label} cannot reach it for ${docs}status callbacks; set it to the public https:// address` +
      (pollMs > 0 ? ' (polling still finds results)' : ''),
  );
}
