// Notifications' face: the notifier (attached to the audit log), the targets resolved, their
// status on the dashboard, and doctor's delivery checks.
export {Notifier, type DeliveryOutcome, type NotifierOptions} from './notifier.js';
export {attachNotifier, describeOutcome, type AttachOptions} from './attach.js';
export {withNotifyStatus} from './status.js';
export {deliveryTailBytes, notifyChecks, type NotifyCheck} from './health.js';
export {destinationOf, resolveTargets, type NotifyTarget} from './targets.js';
