// Sinch Fax v3 behind the shared cloud backend: send (JSON upload or contentUrl), status, lost-send lookup, callback URL.
import type { CloudSendInput, ProviderAdapter } from '../cloud/backend.js';
import { DocumentModeAdapter, taggedSendRequest, type DocumentModeAdapterOptions } from '../cloud/document-mode-adapter.js';
import type { CloudStatus, Existing } from '../cloud/status.js';
import type { SinchClient } from './client.js';
import { mapSinchFax } from './status.js';
import type { SinchFax } from './types.js';

export interface SinchAdapterOptions extends DocumentModeAdapterOptions<SinchClient> {
  /** SINCH_INBOUND_BASIC_USER / _PASS: put into our callback URLs, since Sinch signs nothing and sends these as Basic auth. */
  basic?: { user: string; pass: string } | undefined;
}

export class SinchAdapter extends DocumentModeAdapter<SinchAdapterOptions> implements ProviderAdapter<SinchFax> {
  readonly name = 'sinch';
  readonly label = 'Sinch';

  async send(i: CloudSendInput): Promise<{ providerSid: string; status: CloudStatus | null }> {
    const r = await this.client.sendFax(taggedSendRequest(i));
    const status = mapSinchFax(r.fax);
    return { providerSid: r.providerSid, status: status.state === 'final' ? status : null };
  }

  async getStatus(providerSid: string): Promise<CloudStatus> {
    return mapSinchFax(await this.client.getFax(providerSid));
  }

  findExisting(jobId: string, attemptNo: number, ctx: { to: string; since: Date }): Promise<Existing<SinchFax>> {
    return this.client.findExisting(jobId, attemptNo, { to: ctx.to, since: ctx.since });
  }

  statusOf(fax: SinchFax): CloudStatus {
    return mapSinchFax(fax);
  }

  callbackUrl(jobId: string, attemptNo: number): string {
    const u = new URL(`${this.o.publicBase}/sinch-callback`);
    u.searchParams.set('job_id', jobId);
    u.searchParams.set('attempt', String(attemptNo));
    if (this.o.basic) {
      u.username = this.o.basic.user;
      u.password = this.o.basic.pass;
    }
    return u.toString();
  }
}
