// Settings shared by every cloud backend (a section for src/config): the public URL rule, HTTP timeout, status deadline.
import { envBool, envInt, envNumber } from '../../config/env-types.js';

/** Add to the settings sections in src/config/index.ts. */
export const cloudEnvSchema = {
  /** Refuse to start when PUBLIC_API_URL is not https:// (providers fetch documents and post callbacks there). */
  ENFORCE_PUBLIC_HTTPS: envBool(false),
  /** Seconds to wait for a provider's answer to one request (send, status, list). */
  CLOUD_HTTP_TIMEOUT_SECONDS: envNumber(30, 0.1, 300),
  /**
   * Seconds after a send with no final status from the provider (callback or poll) before the job is
   * failed with a clear error. 0 = 90% of the dispatcher's attempt timeout (FAX_ATTEMPT_TIMEOUT_MINUTES plus
   * FAX_ATTEMPT_TIMEOUT_PER_PAGE_SECONDS a page), so this clearer error comes first.
   */
  CLOUD_STATUS_DEADLINE_SECONDS: envInt(0, 0, 7 * 24 * 3600),
};

export interface CloudSettings {
  PUBLIC_API_URL?: string | undefined;
  ENFORCE_PUBLIC_HTTPS: boolean;
  CLOUD_HTTP_TIMEOUT_SECONDS: number;
  CLOUD_STATUS_DEADLINE_SECONDS: number;
  FAX_ATTEMPT_TIMEOUT_MINUTES: number;
  FAX_ATTEMPT_TIMEOUT_PER_PAGE_SECONDS: number;
}

/** Rules across several settings, checked once the settings are parsed; each problem names its variable. */
export function cloudSettingsIssues(s: CloudSettings): string[] {
  const issues: string[] = [];
  if (s.ENFORCE_PUBLIC_HTTPS) {
    let protocol = '';
    try {
      protocol = new URL(s.PUBLIC_API_URL ?? '').protocol;
    } catch {
      protocol = '';
    }
    if (protocol !== 'https:') {
      issues.push(
        `PUBLIC_API_URL: must be an https:// URL when ENFORCE_PUBLIC_HTTPS=true (providers fetch fax documents and post callbacks there), got "${s.PUBLIC_API_URL ?? ''}"`,
      );
    }
  }
  // The dispatcher gives up on an attempt after FAX_ATTEMPT_TIMEOUT_MINUTES (+2 min a page) with a vaguer message.
  if (s.CLOUD_STATUS_DEADLINE_SECONDS > s.FAX_ATTEMPT_TIMEOUT_MINUTES * 60) {
    issues.push(
      `CLOUD_STATUS_DEADLINE_SECONDS: ${s.CLOUD_STATUS_DEADLINE_SECONDS} is longer than FAX_ATTEMPT_TIMEOUT_MINUTES (${s.FAX_ATTEMPT_TIMEOUT_MINUTES} min); raise FAX_ATTEMPT_TIMEOUT_MINUTES too`,
    );
  }
  return issues;
}

/** Milliseconds a sent fax may stay without a final status before it is failed. */
export function statusDeadlineMs(s: CloudSettings, pages: number | null): number {
  if (s.CLOUD_STATUS_DEADLINE_SECONDS > 0) return s.CLOUD_STATUS_DEADLINE_SECONDS * 1000;
  const dispatcherMs = s.FAX_ATTEMPT_TIMEOUT_MINUTES * 60_000 + s.FAX_ATTEMPT_TIMEOUT_PER_PAGE_SECONDS * 1000 * Math.max(1, pages ?? 1);
  return Math.floor(dispatcherMs * 0.9);
}

/** PUBLIC_API_URL without a trailing slash (the base of document and callback URLs). */
export function publicBase(s: { PUBLIC_API_URL?: string | undefined }): string {
  return (s.PUBLIC_API_URL ?? 'http://localhost:8080').replace(/\/+$/, '');
}
