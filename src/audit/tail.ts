// The live audit tail: Server-Sent Events streams fed by Audit.onEvent, with a heartbeat, closed cleanly on shutdown.
import { PassThrough } from 'node:stream';
import type { Audit } from './audit.js';
import { eventOut } from './format.js';
import { matches, type EventFilter } from './query.js';

interface Client {
  stream: PassThrough;
  close: () => void;
}

export class AuditTail {
  private readonly clients = new Set<Client>();

  constructor(
    private readonly audit: Audit,
    private readonly heartbeatMs: () => number,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** A stream of SSE frames for events matching `filter`; `onClose` runs once, whoever closes it. */
  open(filter: EventFilter, backlog: string[] = []): PassThrough {
    const stream = new PassThrough();
    let timer: NodeJS.Timeout | undefined;
    let closed = false;
    const write = (frame: string) => {
      if (!closed) stream.write(frame);
      arm();
    };
    const arm = () => {
      clearTimeout(timer);
      if (!closed) timer = setTimeout(() => write(`: heartbeat ${new Date().toISOString()}\n\n`), this.heartbeatMs());
    };
    const unsubscribe = this.audit.onEvent((e) => {
      if (matches(filter, e)) write(`event: audit\ndata: ${JSON.stringify(eventOut(e))}\n\n`);
    });
    const client: Client = {
      stream,
      close: () => {
        if (closed) return;
        closed = true;
        clearTimeout(timer);
        unsubscribe();
        this.clients.delete(client);
        stream.end();
      },
    };
    this.clients.add(client);
    stream.on('close', client.close);
    // The first bytes make the response headers go out at once; a client can show "connected".
    write(`retry: 5000\n: connected\n\n`);
    for (const frame of backlog) write(frame);
    return stream;
  }

  /** Ends every stream (shutdown): clients see the stream close, the server is not held open. */
  closeAll(): void {
    for (const c of [...this.clients]) c.close();
  }
}
