import { parseTmcContext } from '../../../infra/config';

const from = (context: Record<string, unknown>) => parseTmcContext((key) => context[key]);

describe('CDK context', () => {
  it('defaults to a dev stage with a stage-scoped metrics namespace and remote-write off', () => {
    expect(from({})).toMatchObject({
      stage: 'dev',
      metricsNamespace: 'tmc/dev',
      logRetentionDays: 30,
      prometheusRemoteWrite: 'none',
      scheduleRates: {},
      maxConcurrency: {},
    });
  });

  it('reads command-line strings: numbers coerced, objects as JSON', () => {
    expect(
      from({
        stage: 'prod',
        logRetentionDays: '90',
        syncLagAlarmSeconds: '900',
        scheduleRates: '{"metrics-rollup": 300}',
        maxConcurrency: '{"sync": "100"}',
      }),
    ).toMatchObject({
      stage: 'prod',
      metricsNamespace: 'tmc/prod',
      logRetentionDays: 90,
      syncLagAlarmSeconds: 900,
      scheduleRates: { 'metrics-rollup': 300 },
      maxConcurrency: { sync: 100 },
    });
  });

  it.each([
    [{ stage: 'Prod!' }, /stage: lower-case/],
    [{ logRetentionDays: '10' }, /logRetentionDays: one of 1, 3, 5/],
    [{ scheduleRates: '{"health-probe": 90}' }, /scheduleRates.health-probe: whole minutes/],
    [{ scheduleRates: '{"nightly": 120}' }, /scheduleRates/],
    [{ maxConcurrency: '{"sync": 1}' }, /maxConcurrency.sync/],
    [{ maxConcurrency: '{"nope": 5}' }, /maxConcurrency/],
    [{ prometheusRemoteWrite: 'http://prom.example.com/api/v1/write' }, /prometheusRemoteWrite/],
    [{ alarmEmail: 'not-an-address' }, /alarmEmail/],
    [{ scheduleRates: '{broken' }, /scheduleRates/],
  ])('rejects %p naming the key', (context, message) => {
    expect(() => from(context)).toThrow(message);
    expect(() => from(context)).toThrow(/docs\/deploy\.md/);
  });

  it.each([
    [{}, 'destroy'],
    [{ stage: 'prod' }, 'retain'],
    [{ stage: 'dev', removalPolicy: 'retain' }, 'retain'],
    [{ stage: 'qa', removalPolicy: 'destroy' }, 'destroy'],
  ])('removal policy of %p is %s', (context, expected) => {
    expect(from(context).removalPolicy).toBe(expected);
  });

  it('rejects an unknown removal policy', () => {
    expect(() => from({ removalPolicy: 'snapshot' })).toThrow(/removalPolicy/);
  });

  it('accepts an existing remote-write endpoint over https', () => {
    const url = 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-123/api/v1/remote_write';
    expect(from({ prometheusRemoteWrite: url }).prometheusRemoteWrite).toBe(url);
  });
});
