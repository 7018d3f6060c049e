// Sinch Fax v3 shapes: the Fax object, the list answer and the webhook event, read leniently (extra fields kept).
import { z } from 'zod';

const optStr = z.string().nullish();
const optNum = z.union([z.number(), z.string()]).nullish();

export const sinchFaxSchema = z.looseObject({
  id: z.string().min(1),
  direction: optStr,
  from: optStr,
  to: optStr,
  contentUrl: z.union([z.string(), z.array(z.string())]).nullish(),
  numberOfPages: optNum,
  pagesSentSuccessfully: optNum,
  status: z.string(),
  createTime: optStr,
  completedTime: optStr,
  labels: z.record(z.string(), z.unknown()).nullish(),
  callbackUrl: optStr,
  errorType: optStr,
  errorCode: optNum,
  errorMessage: optStr,
  retryCount: optNum,
  maxRetries: optNum,
  hasFile: z.union([z.boolean(), z.string()]).nullish(),
  projectId: optStr,
  serviceId: optStr,
});

export type SinchFax = z.output<typeof sinchFaxSchema>;

export const sinchListSchema = z.looseObject({
  faxes: z.array(z.unknown()).nullish(),
  totalItems: optNum,
  pageSize: optNum,
  nextPageToken: optStr,
});
