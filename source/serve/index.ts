// The socket's face: a run's session (serve here, or attach to the server), the client, the
// process's lifecycle (signals, crashes) and the audit log that names a command's origin.
export {EngineSession, type EngineHold, type SessionCoordination} from './session.js';
export {attachOrLock, EngineBusy, socketPathOf} from './attach.js';
export {acquireLease} from './engine-start.js';
export {connectServer, type RemoteEngine} from './client.js';
export {OriginAuditLog} from './origin.js';
export {dropPausesForOneOff} from './handover.js';
export {crashReason, hasTerminal, ignoresHangup, signalExitCode, signalReason, watchCrashes, watchSignals, type ProcessEvents, type SignalHandlers} from './lifecycle.js';
