// What the Phaxio and Sinch adapters share: a client that takes the PDF by upload or by URL, its readiness line, its send request.
import type { CloudSendInput } from './backend.js';

/** A provider URL's host, for readiness lines (never its path, query or credentials). */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}

export interface DocumentModeAdapterOptions<C> {
  client: C;
  baseUrl: string;
  documentMode: 'url' | 'upload';
  missing: readonly string[];
  /** PUBLIC_API_URL without a trailing slash. */
  publicBase: string;
}

/** What both clients' sendFax takes: the job id and attempt become the fax's tags (Phaxio) or labels (Sinch). */
export interface TaggedSendRequest {
  jobId: string;
  attempt: number;
  to: string;
  document: { url: string } | { pdf: Buffer };
  callbackUrl?: string;
}

export function taggedSendRequest(i: CloudSendInput): TaggedSendRequest {
  return {
    jobId: i.jobId, attempt: i.attemptNo, to: i.to, document: 'url' in i.document ? { url: i.document.url } : { pdf: i.document.pdf },
    ...(i.callbackUrl ? { callbackUrl: i.callbackUrl } : {}),
  };
}

/** The ProviderAdapter members that come straight from the options (subclasses add name, label and the calls). */
export abstract class DocumentModeAdapter<O extends DocumentModeAdapterOptions<unknown>> {
  readonly canPoll = true;
  readonly client: O['client'];
  readonly documentMode: 'url' | 'upload';
  readonly missing: readonly string[];

  constructor(protected readonly o: O) {
    this.client = o.client;
    this.documentMode = o.documentMode;
    this.missing = o.missing;
  }

  describe(): string {
    return `${hostOf(this.o.baseUrl)}, documents by ${this.documentMode}`;
  }
}
