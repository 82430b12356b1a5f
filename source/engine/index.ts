// The engine's one face: what the layers above it (ui, serve, notify, metrics, app, commands) may
// use. The rest of source/engine is private to it (docs/design.md, "Where things live").
export {Monitor} from './monitor.js';
export {maxInstanceStop, type Command} from './commands.js';
export type {Deps, MonitorOptions} from './wiring.js';
export {droppedPauses, type Pauses} from './automatic.js';
export type {EntryDraft} from './recorder.js';
export {SnapshotStore} from './snapshot-store.js';
export {breachFound, toJson, wireSnapshot, type Snapshot} from './snapshot.js';
export {checkSnapshot, maxSnapshotRows, refusedSnapshot} from './snapshot-check.js';
export {billedYesterday} from './projection.js';
export {unwatchedText} from './sweep.js';
export {isRowOfSplit, splitForAccounts, type AccountView} from './accounts.js';
export {AuditLog, isAuditGap, type AuditEntry, type AuditPeer} from './state/audit.js';
export {auditSource, readAuditTail, type AuditSource, type AuditTail} from './state/audit-reader.js';
export {StateStore} from './state/store.js';
export {describeHolder, EngineLock, inspectLock, type LockListener, type LockState} from './state/lock.js';
export {messageOf} from './state/record.js';
export {onceWaitMs} from './monitor.js';
export {ActionCutShort} from './enforcer.js';
// Beyond one host (coordination.dynamodb): the lease, the state and audit entries in the table, the snapshot standbys show.
export {defaultLeaseMs, describeLease, lambdaJudgment, leaseTakenOver, LeaseWatch, readLease, TableLease, type LeaseInfo} from './state/lease.js';
export {TableMedium} from './state/table-medium.js';
export {TableAudit} from './state/table-audit.js';
export {readMirrored, SnapshotMirror} from './state/snapshot-mirror.js';
// The provider's types the layers above meet through the engine (metrics time the fleet's listings).
export type {CoordinationTable, Fleet, Provider} from '../providers/index.js';
