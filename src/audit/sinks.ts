// Audit sinks: JSON (or text) lines to AUDIT_LOG_FILE and/or syslog, fed by Audit.onEvent once an event is committed.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Audit, StoredAuditEvent } from './audit.js';
import { eventOut, jsonLine, severityOf, textLine } from './format.js';
import { formatRfc3164, formatRfc5424, parseSyslogAddress, SyslogTransport, type SyslogFacility } from './syslog.js';

export interface SinkDescription {
  enabled: boolean;
  format: 'json' | 'text';
  file: string | null;
  syslog: { address: string; format: 'rfc5424' | 'rfc3164'; facility: string } | null;
  /** Set when neither a file nor syslog is configured: events go to the process log. */
  processLog: boolean;
  /** Lines that could not be written since the start. */
  dropped: number;
}

type AuditSettings = Pick<
  Settings,
  'AUDIT_LOG_ENABLED' | 'AUDIT_LOG_FORMAT' | 'AUDIT_LOG_FILE' | 'AUDIT_LOG_SYSLOG' | 'AUDIT_LOG_SYSLOG_ADDRESS' | 'AUDIT_LOG_SYSLOG_FORMAT' | 'AUDIT_LOG_SYSLOG_FACILITY'
>;

const WARN_EVERY_MS = 60_000;

export class AuditSinks {
  private file: WriteStream | null = null;
  private syslog: SyslogTransport | null = null;
  private unsubscribe: (() => void) | null = null;
  private dropped = 0;
  private lastWarn = 0;
  private readonly desc: SinkDescription;

  constructor(
    private readonly s: AuditSettings,
    private readonly log: Logger,
  ) {
    this.desc = { enabled: s.AUDIT_LOG_ENABLED, format: s.AUDIT_LOG_FORMAT, file: null, syslog: null, processLog: false, dropped: 0 };
  }

  /** Opens the sinks and subscribes to `audit`; a sink that cannot open is reported, the others still work. */
  attach(audit: Audit): void {
    if (!this.s.AUDIT_LOG_ENABLED) return;
    const writers: ((e: StoredAuditEvent) => void)[] = [];
    const line = (e: StoredAuditEvent) => (this.s.AUDIT_LOG_FORMAT === 'text' ? textLine(eventOut(e)) : jsonLine(eventOut(e)));
    if (this.s.AUDIT_LOG_FILE) {
      const path = this.s.AUDIT_LOG_FILE;
      mkdirSync(dirname(path), { recursive: true });
      // O_APPEND: every line lands at the end even with copytruncate rotation or a second writer.
      const f = createWriteStream(path, { flags: 'a', mode: 0o600 });
      f.on('error', (err) => this.failed('file', err));
      this.file = f;
      this.desc.file = path;
      writers.push((e) => {
        if (!f.destroyed) f.write(line(e) + '\n');
      });
    }
    if (this.s.AUDIT_LOG_SYSLOG) {
      const target = parseSyslogAddress(this.s.AUDIT_LOG_SYSLOG_ADDRESS ?? '/dev/log');
      if (typeof target === 'string') {
        this.log.error({ address: this.s.AUDIT_LOG_SYSLOG_ADDRESS }, `audit syslog sink disabled: ${target}`);
      } else {
        const format = this.s.AUDIT_LOG_SYSLOG_FORMAT === 'auto' ? (target.kind === 'unix' ? 'rfc3164' : 'rfc5424') : this.s.AUDIT_LOG_SYSLOG_FORMAT;
        const t = new SyslogTransport(target, (err) => this.failed('syslog', err));
        this.syslog = t;
        this.desc.syslog = { address: this.s.AUDIT_LOG_SYSLOG_ADDRESS ?? '/dev/log', format, facility: this.s.AUDIT_LOG_SYSLOG_FACILITY };
        const fmt = format === 'rfc3164' ? formatRfc3164 : formatRfc5424;
        writers.push((e) =>
          t.send(
            fmt({
              facility: this.s.AUDIT_LOG_SYSLOG_FACILITY as SyslogFacility,
              severity: severityOf(e.type),
              appName: 'faxbot',
              msgId: e.type,
              // The JSON line is the message: syslog adds its header, collectors parse the rest as JSON.
              message: jsonLine(eventOut(e)),
              host: target.kind === 'unix' ? null : undefined,
            }),
          ),
        );
      }
    }
    if (writers.length === 0) {
      this.desc.processLog = true;
      writers.push((e) => this.log.info({ audit: eventOut(e) }, 'audit'));
    }
    this.unsubscribe = audit.onEvent((e) => {
      for (const w of writers) w(e);
    });
  }

  private failed(sink: 'file' | 'syslog', err: Error): void {
    this.dropped += 1;
    const now = Date.now();
    if (now - this.lastWarn < WARN_EVERY_MS) return;
    this.lastWarn = now;
    this.log.error({ sink, err: err.message, dropped: this.dropped }, 'audit sink failed; events are still stored in the database');
  }

  describe(): SinkDescription {
    return { ...this.desc, dropped: this.dropped };
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.syslog?.close();
    this.syslog = null;
    const f = this.file;
    this.file = null;
    if (f && !f.destroyed) await new Promise<void>((resolve) => f.end(() => resolve()));
  }
}
