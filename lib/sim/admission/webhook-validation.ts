import type { KubeObject } from '../../kube/object';
import type { FieldCause } from '../field-cause';
import { matchConditionCauses } from './match-conditions';

/**
 * What kube-apiserver's ValidateMutatingWebhookConfiguration / ValidateValidatingWebhookConfiguration refuse that the
 * simulator checks: match conditions (a bad CEL expression is a 422 naming `webhooks[i].matchConditions[j].expression`
 * at create, never a surprise at the first admission).
 */
export function webhookConfigurationCauses(object: KubeObject): FieldCause[] {
  const webhooks: unknown = object.webhooks;
  if (!Array.isArray(webhooks)) return [];
  return webhooks.flatMap((webhook: unknown, index) => {
    const matchConditions =
      webhook !== null && typeof webhook === 'object'
        ? (webhook as Record<string, unknown>).matchConditions
        : undefined;
    return matchConditionCauses(matchConditions, `webhooks[${index}]`);
  });
}
