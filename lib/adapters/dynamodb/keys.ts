import { objectKey, type ObjectRef } from '../../api/object-ref';

/** The state table's key vocabulary (docs/state.md): every DynamoDB adapter builds its keys from these. */

/** An object's partition: its decision, sync, status and trace items; `key` is an object key (lib/api/object-ref). */
export const objectKeyPk = (key: string): string => `OBJ#${key}`;
export const objPk = (ref: ObjectRef): string => objectKeyPk(objectKey(ref));
/** A cluster's partition (health, circuit, mirror) and the gsi1 partition of the sync items on it. */
export const clusterPk = (name: string): string => `CLUSTER#${name}`;
/** Placement's decision item in an object's partition. */
export const DECISION_SK = 'DECISION';
/** Sort-key prefix of an object's sync items: `SYNC#<cluster>`. */
export const SYNC_SK_PREFIX = 'SYNC#';
