// The ARI simulator's public face: start it, script numbers, drive failures.
export { startAriSim, type AriSim, type AriSimOptions, type RecordedRequest, type WsAttempt } from './server.js';
export type { SimScenario, SimTiming } from './scenarios.js';
