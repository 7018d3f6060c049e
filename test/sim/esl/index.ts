// The FreeSWITCH Event Socket simulator used by the FreeSWITCH backend tests (see server.ts).
export { EslSim, startEslSim, type CommandLogEntry, type EslSimOptions, type ReceiveFaxOptions, type ReceivedFax } from './server.js';
export { SCENARIOS, TIMING, type Scenario, type ScenarioName } from './scenarios.js';
export { countTiffPages, writeBlankFaxTiff } from './tiff.js';
export { parseOriginateArgs, separateString, type ParsedOriginate } from './fs-strings.js';
