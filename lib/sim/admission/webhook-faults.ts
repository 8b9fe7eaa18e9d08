/**
 * Faults injected in front of a webhook target, so tests can make tmc's webhook slow or failing without stopping
 * its server: the dispatcher consults these before calling out.
 */
export type WebhookFault =
  /** Delays the call; a delay at or past the webhook's timeout behaves as a timeout. */
  | { kind: 'latency'; ms: number }
  /** Fails at once as a stopped target does (connection refused). */
  | { kind: 'refuse' }
  /** Never answers, so the call times out after the webhook's timeoutSeconds. */
  | { kind: 'hang' }
  /** Answers this HTTP status with a plain-text body. */
  | { kind: 'status'; code: number; body?: string };

export interface WebhookFaultSource {
  faultFor(url: string, webhookName: string): WebhookFault | undefined;
}

export interface WebhookFaultInjector extends WebhookFaultSource {
  /** Injects a fault for webhook URLs starting with `urlPrefix` (`*` for every webhook). */
  set(urlPrefix: string, fault: WebhookFault): void;
  /** Removes the fault for `urlPrefix`, or every fault. */
  clear(urlPrefix?: string): void;
}

/** A run-time settable set of webhook faults; the longest matching URL prefix wins. */
export function createWebhookFaultInjector(): WebhookFaultInjector {
  const faults = new Map<string, WebhookFault>();
  return {
    set: (urlPrefix, fault): void => {
      faults.set(urlPrefix, fault);
    },
    clear: (urlPrefix): void => {
      if (urlPrefix === undefined) faults.clear();
      else faults.delete(urlPrefix);
    },
    faultFor: (url): WebhookFault | undefined => {
      let best: [string, WebhookFault] | undefined;
      for (const entry of faults) {
        const [prefix] = entry;
        if ((prefix === '*' || url.startsWith(prefix)) && (!best || prefix.length > best[0].length || best[0] === '*'))
          best = entry;
      }
      return best?.[1];
    },
  };
}
