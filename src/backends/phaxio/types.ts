// Phaxio v2.1 shapes: the {success,message,data} envelope and the Fax Object, read leniently (extra fields kept).
import { z } from 'zod';

const idLike = z.union([z.number(), z.string()]).transform((v) => String(v));
const optStr = z.string().nullish();
const optNum = z.union([z.number(), z.string()]).nullish();

export const phaxioRecipientSchema = z.looseObject({
  phone_number: optStr,
  status: optStr,
  retry_count: optNum,
  completed_at: optStr,
  bitrate: optNum,
  resolution: optNum,
  error_type: optStr,
  error_id: optNum,
  error_message: optStr,
});

export const phaxioFaxSchema = z.looseObject({
  id: idLike,
  direction: optStr,
  num_pages: optNum,
  cost: optNum,
  status: z.string(),
  is_test: z.union([z.boolean(), z.string()]).nullish(),
  created_at: optStr,
  completed_at: optStr,
  caller_id: optStr,
  from_number: optStr,
  to_number: optStr,
  recipients: z.array(phaxioRecipientSchema).nullish(),
  tags: z.record(z.string(), z.unknown()).nullish().or(z.array(z.unknown()).transform(() => ({}))),
  error_type: optStr,
  error_id: optNum,
  error_message: optStr,
});

export type PhaxioFax = z.output<typeof phaxioFaxSchema>;
export type PhaxioRecipient = z.output<typeof phaxioRecipientSchema>;

export const phaxioEnvelopeSchema = z.looseObject({
  success: z.boolean(),
  message: z.string().nullish(),
  data: z.unknown().optional(),
  paging: z.unknown().optional(),
});
