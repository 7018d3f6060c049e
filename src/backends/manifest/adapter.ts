// A manifest provider behind the shared cloud backend.
import type { CloudSendInput, ProviderAdapter } from '../cloud/backend.js';
import type { CloudStatus, Existing } from '../cloud/status.js';
import type { ManifestProvider } from './provider.js';

type Found = { providerSid: string; status: CloudStatus | null };

export class ManifestAdapter implements ProviderAdapter<Found> {
  readonly name: string;
  readonly label: string;
  readonly documentMode: 'url' | 'upload';
  readonly missing: readonly string[] = [];
  readonly canPoll: boolean;

  constructor(
    readonly provider: ManifestProvider,
    private readonly publicBase: string,
  ) {
    this.name = provider.id;
    this.label = provider.name;
    this.documentMode = provider.manifest.json.send.document;
    this.canPoll = provider.hasPoll;
  }

  describe(): string {
    return `manifest ${this.provider.manifest.source}, documents by ${this.documentMode}${this.canPoll ? '' : ', no polling'}`;
  }

  async send(i: CloudSendInput): Promise<{ providerSid: string; status: CloudStatus | null }> {
    return this.provider.send({
      jobId: i.jobId, attempt: i.attemptNo, to: i.to,
      ...('url' in i.document ? { documentUrl: i.document.url } : { pdf: i.document.pdf }),
      ...(i.callbackUrl ? { callbackUrl: i.callbackUrl } : {}),
    });
  }

  getStatus(providerSid: string, ctx: { jobId: string; attemptNo: number; to: string }): Promise<CloudStatus> {
    return this.provider.getStatus(providerSid, { jobId: ctx.jobId, attempt: ctx.attemptNo, to: ctx.to });
  }

  findExisting(jobId: string, attemptNo: number, ctx: { to: string }): Promise<Existing<Found>> {
    return this.provider.findExisting(jobId, attemptNo, { to: ctx.to });
  }

  /** A listed fax without a status is taken as still going: polling or a callback settles it. */
  statusOf(fax: Found): CloudStatus {
    return fax.status ?? { state: 'in_progress', providerStatus: 'unknown', pages: null };
  }

  callbackUrl(jobId: string, attemptNo: number): string {
    return `${this.publicBase}/manifest-callback/${encodeURIComponent(this.name)}?job_id=${encodeURIComponent(jobId)}&attempt=${attemptNo}`;
  }
}
