/** One invalid field of a request, as a Kubernetes 422 Status lists it in `details.causes`. */
export interface FieldCause {
  field: string;
  message: string;
  reason?: string;
}
