// Phaxio behind the shared cloud backend: send (upload or content_url), status, lost-send lookup, per-attempt callback URL.
import type { CloudSendInput, ProviderAdapter } from '../cloud/backend.js';
import { DocumentModeAdapter, taggedSendRequest, type DocumentModeAdapterOptions } from '../cloud/document-mode-adapter.js';
import type { CloudStatus, Existing } from '../cloud/status.js';
import type { PhaxioClient } from './client.js';
import { mapPhaxioFax } from './status.js';
import type { PhaxioFax } from './types.js';

export type PhaxioAdapterOptions = DocumentModeAdapterOptions<PhaxioClient>;

export class PhaxioAdapter extends DocumentModeAdapter<PhaxioAdapterOptions> implements ProviderAdapter<PhaxioFax> {
  readonly name = 'phaxio';
  readonly label = 'Phaxio';

  async send(i: CloudSendInput): Promise<{ providerSid: string; status: CloudStatus | null }> {
    const r = await this.client.sendFax(taggedSendRequest(i));
    return { providerSid: r.providerSid, status: null };
  }

  async getStatus(providerSid: string): Promise<CloudStatus> {
    return mapPhaxioFax(await this.client.getFax(providerSid));
  }

  findExisting(jobId: string, attemptNo: number, ctx: { since: Date }): Promise<Existing<PhaxioFax>> {
    return this.client.findExisting(jobId, attemptNo, { since: ctx.since });
  }

  statusOf(fax: PhaxioFax): CloudStatus {
    return mapPhaxioFax(fax);
  }

  /** The URL Phaxio signs (X-Phaxio-Signature covers it exactly, query included). */
  callbackUrl(jobId: string, attemptNo: number): string {
    return `${this.o.publicBase}/phaxio-callback?job_id=${encodeURIComponent(jobId)}&attempt=${attemptNo}`;
  }
}

