// Routes the PBX-wide event stream to our own calls: by Job-UUID for BACKGROUND_JOB, by Unique-ID otherwise.
//
// Every ESL client receives every channel's events, and several gateway instances may share one
// FreeSWITCH, so events for calls we did not start are expected and simply dropped here. (A socket
// `filter` would also drop BACKGROUND_JOB, which has no Unique-ID.)
import type { EslEvent } from './esl-event.js';
import type { FaxCall, FaxCallUpdate } from './fax-call.js';
import { parseJobCommandArg } from './originate.js';

export interface RoutedUpdate {
  call: FaxCall;
  update: FaxCallUpdate;
}

export class FaxCallTracker {
  private readonly byCall = new Map<string, FaxCall>();
  private readonly byJob = new Map<string, FaxCall>();

  /** Register before sending the bgapi: its BACKGROUND_JOB may arrive before the command reply. */
  track(call: FaxCall): void {
    this.byCall.set(call.callUuid, call);
    this.byJob.set(call.jobUuid, call);
  }

  forget(callUuid: string): void {
    const call = this.byCall.get(callUuid.toLowerCase());
    if (!call) return;
    this.byCall.delete(call.callUuid);
    this.byJob.delete(call.jobUuid);
  }

  get(callUuid: string): FaxCall | undefined {
    return this.byCall.get(callUuid.toLowerCase());
  }

  get size(): number {
    return this.byCall.size;
  }

  calls(): IterableIterator<FaxCall> {
    return this.byCall.values();
  }

  /** Feeds one event to the call it belongs to; a call that reached its outcome is forgotten. */
  route(ev: EslEvent): RoutedUpdate | null {
    let call: FaxCall | undefined;
    if (ev.name === 'BACKGROUND_JOB') {
      call = this.byJob.get((ev.headers['Job-UUID'] ?? '').toLowerCase());
      const fromArg = call ? undefined : parseJobCommandArg(ev.headers['Job-Command-Arg']).callUuid;
      if (fromArg) call = this.byCall.get(fromArg);
    } else {
      const id = ev.headers['Unique-ID'];
      if (id) call = this.byCall.get(id.toLowerCase());
    }
    if (!call) return null;
    const update = call.handle(ev);
    if (!update) return null;
    if (update.outcome) this.forget(call.callUuid);
    return { call, update };
  }
}
