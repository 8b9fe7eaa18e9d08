// The admission dispatcher the simulator's server calls on every write (and on controllers' status writes).
export {
  createAdmissionDispatcher,
  type AdmissionDispatcherOptions,
  type ClosableAdmissionDispatcher,
  type WebhookFailOpen,
} from './admission-dispatcher';
export {
  createWebhookFaultInjector,
  type WebhookFault,
  type WebhookFaultInjector,
  type WebhookFaultSource,
} from './webhook-faults';
export type { WebhookCaller, WebhookCall, WebhookCallResult, WebhookCredentials } from './webhook-caller';
