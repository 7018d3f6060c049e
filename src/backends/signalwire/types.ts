// SignalWire Compatibility (LaML) fax resource and list shapes, read leniently (extra fields kept).
import { z } from 'zod';

const optStr = z.string().nullish();
const optNum = z.union([z.number(), z.string()]).nullish();

export const signalWireFaxSchema = z.looseObject({
  sid: z.string().min(1),
  account_sid: optStr,
  status: z.string(),
  direction: optStr,
  from: optStr,
  to: optStr,
  media_url: optStr,
  media_sid: optStr,
  num_pages: optNum,
  price: optNum,
  price_unit: optStr,
  quality: optStr,
  duration: optNum,
  error_code: optNum,
  error_message: optStr,
  date_created: optStr,
  date_updated: optStr,
  url: optStr,
});

export type SignalWireFax = z.output<typeof signalWireFaxSchema>;

export const signalWireListSchema = z.looseObject({
  faxes: z.array(z.unknown()),
  next_page_uri: optStr,
  meta: z.looseObject({ next_page_url: optStr }).nullish(),
});
