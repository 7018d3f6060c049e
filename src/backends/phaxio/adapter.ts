// Phaxio behind the shared cloud backend: send (upload or content_url), status, lost-send lookup, per-attempt callback URL.
import type { CloudSendInput, ProviderAdapter } from '../cloud/backend.js';
import type { CloudStatus, Existing } from '../cloud/status.js';
import type { PhaxioClient } from './client.js';
import { mapPhaxioFax } from './status.js';
import type { PhaxioFax } from './types.js';

export interface PhaxioAdapterOptions {
  client: PhaxioClient;
  baseUrl: string;
  documentMode: 'url' | 'upload';
  missing: readonly string[];
  /** PUBLIC_API_URL without a trailing slash. */
  publicBase: string;
}

export class PhaxioAdapter implements ProviderAdapter<PhaxioFax> {
  readonly name = 'phaxio';
  readonly label = 'Phaxio';
  readonly canPoll = true;
  readonly client: PhaxioClient;
  readonly documentMode: 'url' | 'upload';
  readonly missing: readonly string[];

  constructor(private readonly o: PhaxioAdapterOptions) {
    this.client = o.client;
    this.documentMode = o.documentMode;
    this.missing = o.missing;
  }

  describe(): string {
    return `${hostOf(this.o.baseUrl)}, documents by ${this.documentMode}`;
  }

  async send(i: CloudSendInput): Promise<{ providerSid: string; status: CloudStatus | null }> {
    const r = await this.client.sendFax({
      jobId: i.jobId, attempt: i.attemptNo, to: i.to, document: 'url' in i.document ? { url: i.document.url } : { pdf: i.document.pdf },
      ...(i.callbackUrl ? { callbackUrl: i.callbackUrl } : {}),
    });
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

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}
