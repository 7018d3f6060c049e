// Loads the trimmed recordings of a real FreeSWITCH (fixtures/recorded-events.json) as EslEvents.
import { readFileSync } from 'node:fs';
import { toEslEvent, type EslEvent } from '../../../src/backends/freeswitch/esl-event.js';

const raw = JSON.parse(readFileSync(new URL('./fixtures/recorded-events.json', import.meta.url), 'utf8')) as Record<string, Record<string, string>[]>;

export const RECORDED_SCENARIOS = Object.keys(raw).filter((k) => !k.startsWith('fs-b/'));

export function recorded(scenario: string): EslEvent[] {
  const list = raw[scenario];
  if (!list) throw new Error(`no recording "${scenario}"`);
  return list.map((h) => {
    const ev = toEslEvent(h);
    if (!ev) throw new Error('recorded event without Event-Name');
    return ev;
  });
}

/** The call uuid and Job-UUID of a recorded A-side scenario (from its BACKGROUND_JOB). */
export function recordedIds(scenario: string): { callUuid: string; jobUuid: string } {
  const bg = recorded(scenario).find((e) => e.name === 'BACKGROUND_JOB');
  if (!bg) throw new Error(`no BACKGROUND_JOB in ${scenario}`);
  const callUuid = /origination_uuid=([0-9a-f-]{36})/.exec(bg.headers['Job-Command-Arg'] ?? '')?.[1];
  if (!callUuid) throw new Error('no origination_uuid');
  return { callUuid, jobUuid: bg.headers['Job-UUID']! };
}
