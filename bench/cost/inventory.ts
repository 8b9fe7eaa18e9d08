import { z } from 'zod';
import { FUNCTIONS, SCHEDULES } from '../../lib/runtime/resources';

/**
 * What a synthesized tmc stack bills for by the month whether or not anything happens: counted from the CloudFormation
 * template itself (`cdk synth`, or `Template.toJSON()`), so the idle cost follows the stack as it is built.
 */
export interface StackInventory {
  alarms: number;
  /** Alarm metrics as CloudWatch bills them: one per plain alarm, one per metric a metric-math alarm reads. */
  alarmMetrics: number;
  dashboards: number;
  secrets: number;
  /** Queues a Lambda event source mapping polls (Lambda's pollers receive from them all the time). */
  polledQueues: number;
  /** Functions (lib/runtime/resources.ts names) with active X-Ray tracing: every scheduled run of one is a trace. */
  tracedFunctions: string[];
  /** Each scheduled rule: the SCHEDULES name its rule is named after, and its rate. */
  schedules: Array<{ name: string; rateSeconds: number }>;
}

const ResourceSchema = z.object({ Type: z.string(), Properties: z.record(z.string(), z.unknown()).optional() });
const TemplateSchema = z.object({ Resources: z.record(z.string(), ResourceSchema) });
const AlarmSchema = z.object({ Metrics: z.array(z.object({ MetricStat: z.unknown().optional() })).optional() });
const RuleSchema = z.object({ Name: z.string(), ScheduleExpression: z.string() });
const FunctionSchema = z.object({
  FunctionName: z.unknown().optional(),
  TracingConfig: z.object({ Mode: z.string() }).optional(),
});

const UNIT_SECONDS: Record<string, number> = {
  minute: 60,
  minutes: 60,
  hour: 3600,
  hours: 3600,
  day: 86400,
  days: 86400,
};

/** `rate(5 minutes)` in seconds. */
export function rateSeconds(expression: string): number {
  const match = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression);
  if (match === null) throw new Error(`Not an EventBridge rate expression: ${expression}`);
  return Number(match[1]) * UNIT_SECONDS[match[2]];
}

export function inventoryOf(template: unknown): StackInventory {
  const resources = Object.values(TemplateSchema.parse(template).Resources);
  const ofType = (type: string) => resources.filter((r) => r.Type === type);
  const alarms = ofType('AWS::CloudWatch::Alarm').map((a) => AlarmSchema.parse(a.Properties ?? {}));
  const schedules = ofType('AWS::Events::Rule').map((r) => {
    const rule = RuleSchema.parse(r.Properties);
    const schedule = SCHEDULES.find((s) => rule.Name.endsWith(`-${s.name}`));
    if (schedule === undefined) throw new Error(`Rule ${rule.Name} runs no schedule of lib/runtime/resources.ts`);
    return { name: schedule.name, rateSeconds: rateSeconds(rule.ScheduleExpression) };
  });
  const tracedFunctions = ofType('AWS::Lambda::Function').flatMap((r) => {
    const fn = FunctionSchema.parse(r.Properties ?? {});
    const name = fn.FunctionName;
    if (fn.TracingConfig?.Mode !== 'Active' || typeof name !== 'string') return [];
    const target = Object.keys(FUNCTIONS).find((f) => name.endsWith(`-${f}`));
    return target === undefined ? [] : [target];
  });
  return {
    tracedFunctions,
    alarms: alarms.length,
    alarmMetrics: alarms.reduce(
      (n, a) => n + (a.Metrics === undefined ? 1 : a.Metrics.filter((m) => m.MetricStat !== undefined).length),
      0,
    ),
    dashboards: ofType('AWS::CloudWatch::Dashboard').length,
    secrets: ofType('AWS::SecretsManager::Secret').length,
    polledQueues: ofType('AWS::Lambda::EventSourceMapping').length,
    schedules,
  };
}
