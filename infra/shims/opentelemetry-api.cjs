// Bundled in place of @opentelemetry/api (infra/bundling.ts): prom-client reads the active span only for exemplars,
// which tmc never enables; with no span there is no exemplar, as with OpenTelemetry installed but unused.
module.exports = {
  trace: { getSpan: () => undefined, getActiveSpan: () => undefined },
  context: { active: () => undefined },
};
