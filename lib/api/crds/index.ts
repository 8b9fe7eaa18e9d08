export * from './common';
export * from './sync-target';
export * from './location';
export * from './placement';
export { validateTmcObject, formatFieldPath } from './validate';
export type { FieldError, ValidationResult } from './validate';
