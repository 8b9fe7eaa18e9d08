/**
 * Asks V8 to store `object`'s properties in its fast layout (a shape shared by the object and a descriptor array)
 * instead of a hash table, and returns the same object: nothing about its properties changes, only how V8 keeps them.
 *
 * Why the AWS clients need it: an SDK v3 client's resolved configuration (`client.config`, about 50 properties, built
 * by a chain of `Object.assign`s and an accessor for `credentials`) ends up in V8's dictionary mode, and the SDK
 * copies the whole object on every request, three times (`{ ...config }` in the endpoint middleware, `{ ...config,
 * ...context }` in the schema serializer and deserializer, @smithy/core). Copying a dictionary-mode object with a spread
 * takes V8's slow path: ≈ 22–30 µs a copy against ≈ 2.5 µs in the fast layout (node 20, load ≈ 30 on 2 cores), so
 * ≈ 60 µs of every request's client CPU (docs/bench.md "Functions' CPU per sync", session 8).
 *
 * How: V8 turns an object back into the fast layout when it serves as a prototype that property lookups go through
 * (`JSObject::MakePrototypesFast`, on an inline-cache miss of a load that walks the prototype chain). So the object is
 * made the prototype of a throwaway object, and a property missing on that object is read through it a few times.
 * This is the well-known `toFastProperties` idiom (bluebird, Node's own internals once). It changes no property,
 * prototype or identity of `object`; the only trace is V8's internal flag that the object has served as a prototype.
 * If a future V8 no longer does this, nothing breaks: the copies are slow again (test/unit/runtime/aws-clients.test.ts
 * checks the layout with V8's natives syntax, so such a change shows up as a failing test, not as a silent loss).
 */
export function withFastProperties<T extends object>(object: T): T {
  function Prototyped(): void {
    // Only its instances matter: they look properties up through `object`.
  }
  Prototyped.prototype = object;
  const receiver: unknown = Reflect.construct(Prototyped, []);
  // A load that misses on the receiver and is found on (or past) its prototype: enough calls for V8 to give the
  // function its inline caches, whose misses make the prototypes on the way fast.
  const probe = (target: unknown): boolean => (target as { constructor?: unknown }).constructor === Prototyped;
  for (let i = 0; i < 16; i++) probe(receiver);
  return object;
}
