// SignalWire fax behind the shared cloud backend: send by MediaUrl, status, lost-send lookup, per-attempt StatusCallback.
import type { CloudSendInput, ProviderAdapter } from '../cloud/backend.js';
import type { CloudStatus, Existing } from '../cloud/status.js';
import { hostOf } from '../cloud/document-mode-adapter.js';
import { spaceOrigin, type SignalWireClient } from './client.js';
import { mapSignalWireStatus } from './status.js';
import type { SignalWireFax } from './types.js';

export interface SignalWireAdapterOptions {
  client: SignalWireClient;
  spaceUrl: string;
  missing: readonly string[];
  publicBase: string;
}

export function mapSignalWireFax(fax: SignalWireFax): CloudStatus {
  return mapSignalWireStatus({ status: fax.status, numPages: fax.num_pages, errorCode: fax.error_code, errorMessage: fax.error_message ?? null });
}

export class SignalWireAdapter implements ProviderAdapter<SignalWireFax> {
  readonly name = 'signalwire';
  readonly label = 'SignalWire';
  readonly canPoll = true;
  /** SignalWire only takes a MediaUrl. */
  readonly documentMode = 'url' as const;
  readonly client: SignalWireClient;
  readonly missing: readonly string[];

  constructor(private readonly o: SignalWireAdapterOptions) {
    this.client = o.client;
    this.missing = o.missing;
  }

  describe(): string {
    return `${this.o.spaceUrl ? hostOf(spaceOrigin(this.o.spaceUrl)) : '(no space)'}, documents by url`;
  }

  async send(i: CloudSendInput): Promise<{ providerSid: string; status: CloudStatus | null }> {
    if (!('url' in i.document)) throw new Error('SignalWire sends documents by URL only');
    const r = await this.client.sendFax({
      jobId: i.jobId, attempt: i.attemptNo, to: i.to, mediaUrl: i.document.url, ...(i.callbackUrl ? { statusCallback: i.callbackUrl } : {}),
    });
    const status = mapSignalWireFax(r.fax);
    return { providerSid: r.providerSid, status: status.state === 'final' ? status : null };
  }

  async getStatus(providerSid: string): Promise<CloudStatus> {
    return mapSignalWireFax(await this.client.getFax(providerSid));
  }

  findExisting(jobId: string, attemptNo: number, ctx: { to: string; since: Date }): Promise<Existing<SignalWireFax>> {
    return this.client.findExisting(jobId, attemptNo, { to: ctx.to, since: ctx.since });
  }

  statusOf(fax: SignalWireFax): CloudStatus {
    return mapSignalWireFax(fax);
  }

  /** Also what the signature covers: SignalWire signs the StatusCallback URL exactly as given. */
  callbackUrl(jobId: string, attemptNo: number): string {
    return `${this.o.publicBase}/signalwire-callback?job_id=${encodeURIComponent(jobId)}&attempt=${attemptNo}`;
  }
}
