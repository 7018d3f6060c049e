// The API's view of a job (FaxJobOut in the spec): exactly these fields, nothing internal.
import type { FaxJob } from '../db/schema.js';

export interface FaxJobOut {
  id: string;
  to: string;
  status: string;
  error: string | null;
  pages: number | null;
  backend: string;
  provider_sid: string | null;
  created_at: string;
  updated_at: string;
}

export function presentJob(j: FaxJob): FaxJobOut {
  return {
    id: j.id,
    to: j.to_number,
    status: j.status,
    error: j.error,
    pages: j.pages,
    backend: j.backend,
    provider_sid: j.provider_sid,
    created_at: j.created_at,
    updated_at: j.updated_at,
  };
}
