// Placeholder until the admission dispatcher lands (being built now); the server imports this name.
import type { AdmissionAttributes, AdmissionDispatcher, AdmissionOutcome } from '../contracts';

export function createAdmissionDispatcher(): AdmissionDispatcher {
  return { admit: async (attrs: AdmissionAttributes): Promise<AdmissionOutcome> => ({ allowed: true, object: attrs.object }) };
}
