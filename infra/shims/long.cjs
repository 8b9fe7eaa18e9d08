// Bundled in place of long (infra/bundling.ts): protobufjs uses Long.js only if present, and encodes int64 fields from
// numbers without it. tmc encodes only remote-write timestamps (milliseconds, exact in a double).
module.exports = null;
