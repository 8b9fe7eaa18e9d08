import { dynamoWriteUnits, formatIdleMonth } from './cost/model';
import { PHASE_COST_ASSUMPTIONS } from './cost/phase';
import type { BenchResults } from './bench-results';
import type { EndToEndResult, PhaseResult } from './e2e/scenario';
import { sizeLabel } from './sizes';

/** The terminal tables of `tmc bench`: the same figures as the JSON, fewer digits. */

export function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

const ms = (n: number): string => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : '-');
const num = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(2));
const usd = (n: number): string => `$${n >= 1 ? n.toFixed(2) : n.toFixed(4)}`;

type PhaseRow = BenchResults['endToEnd'][number]['phases'][number];

/** Components as rows, phases as columns: CPU ms per object·cluster sync, then requests per object·cluster sync. */
export function cpuAndRequestTables(
  phases: ReadonlyArray<Pick<PhaseRow, 'phase' | 'cpu' | 'requestsPerSync'>>,
): string[] {
  const out: string[] = [];
  const withCpu = phases.filter((p) => p.cpu !== undefined);
  const ms3 = (n: number | undefined): string => (n === undefined ? '-' : n >= 10 ? n.toFixed(1) : n.toFixed(2));
  if (withCpu.length > 0) {
    const components = [...new Set(withCpu.flatMap((p) => Object.keys(p.cpu!.perSyncMs)))].sort();
    out.push(
      'CPU ms per object·cluster sync by component (per-thread /proc CPU; the main thread split by its profile)',
    );
    out.push(
      table(
        ['component', ...withCpu.map((p) => p.phase)],
        [
          ...components.map((c) => [c, ...withCpu.map((p) => ms3(p.cpu!.perSyncMs[c]))]),
          ['tmc (fn:* + tmc on main)', ...withCpu.map((p) => ms3(p.cpu!.tmcPerSyncMs))],
          ['whole stack', ...withCpu.map((p) => ms3(p.cpu!.totalPerSyncMs))],
        ],
      ),
    );
    const perRequest = (p: (typeof withCpu)[number]): string =>
      Object.entries(p.cpu!.perRequestMs)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k} ${ms3(v)}`)
        .join(', ');
    out.push(`environment CPU ms per request served: ${withCpu.map((p) => `${p.phase}: ${perRequest(p)}`).join('; ')}`);
  }
  const kinds = (pick: (p: (typeof phases)[number]) => Record<string, number>, prefix: string): string[] =>
    [...new Set(phases.flatMap((p) => Object.keys(pick(p))))].sort().map((k) => `${prefix}${k}`);
  const value = (p: (typeof phases)[number], kind: string): number | undefined => {
    const r = p.requestsPerSync;
    if (kind.startsWith('ddb ')) return r.dynamodb[kind.slice(4)];
    if (kind.startsWith('sqs ')) return r.sqs[kind.slice(4)];
    return (
      {
        'kcp reads': r.kcpReads,
        'kcp writes': r.kcpWrites,
        'cluster reads': r.clusterReads,
        'cluster writes': r.clusterWrites,
        total: r.total,
      } as Record<string, number>
    )[kind];
  };
  const rows = [
    ...kinds((p) => p.requestsPerSync.dynamodb, 'ddb '),
    ...kinds((p) => p.requestsPerSync.sqs, 'sqs '),
    'kcp reads',
    'kcp writes',
    'cluster reads',
    'cluster writes',
    'total',
  ];
  out.push('Requests per object·cluster sync by kind (DynamoDB and SQS at the emulators, Kubernetes at the simulator)');
  out.push(
    table(
      ['request', ...phases.map((p) => p.phase)],
      rows.map((k) => [
        k,
        ...phases.map((p) => {
          const v = value(p, k);
          return v === undefined ? '-' : num(v);
        }),
      ]),
    ),
  );
  const byQueue = phases.filter((p) => p.requestsPerSync.sqsByQueue !== undefined);
  if (byQueue.length > 0) {
    const keys = [...new Set(byQueue.flatMap((p) => Object.keys(p.requestsPerSync.sqsByQueue!)))].sort(
      (a, b) => queueOf(a).localeCompare(queueOf(b)) || a.localeCompare(b),
    );
    out.push('SQS requests per object·cluster sync by queue (a batch operation: entries per request in brackets)');
    out.push(
      table(
        ['request', ...byQueue.map((p) => p.phase)],
        keys.map((k) => [
          k,
          ...byQueue.map((p) => {
            const v = p.requestsPerSync.sqsByQueue![k];
            const entries = p.requestsPerSync.sqsEntriesPerRequest?.[k];
            return v === undefined ? '-' : entries === undefined ? num(v) : `${num(v)} (${entries.toFixed(1)})`;
          }),
        ]),
      ),
    );
  }
  return out;
}

/** `SendMessageBatch tmc-sync` → `tmc-sync`. */
const queueOf = (key: string): string => key.slice(key.indexOf(' ') + 1);

/** The create phase beside the floor run (bench/e2e/floor.ts): each figure and tmc ÷ floor. */
export function floorTable(
  create: Pick<PhaseRow, 'cpu' | 'requestsPerSync'>,
  floor: NonNullable<BenchResults['endToEnd'][number]['floor']>,
): string[] {
  const sumOf = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
  const rows: Array<[string, number | undefined, number | undefined]> = [
    ['whole-stack CPU ms/sync', create.cpu?.totalPerSyncMs, floor.cpu?.totalPerSyncMs],
    ['tmc CPU ms/sync (floor: its pipeline)', create.cpu?.tmcPerSyncMs, floor.cpu?.tmcPerSyncMs],
    ['dynalite CPU ms/sync', create.cpu?.perSyncMs.dynalite, floor.cpu?.perSyncMs.dynalite],
    ['fauxqs CPU ms/sync', create.cpu?.perSyncMs.fauxqs, floor.cpu?.perSyncMs.fauxqs],
    ['simulator CPU ms/sync', create.cpu?.perSyncMs['main: simulator'], floor.cpu?.perSyncMs['main: simulator']],
    ['requests/sync', create.requestsPerSync.total, floor.requestsPerSync.total],
    ['DynamoDB requests/sync', sumOf(create.requestsPerSync.dynamodb), sumOf(floor.requestsPerSync.dynamodb)],
    ['SQS requests/sync', sumOf(create.requestsPerSync.sqs), sumOf(floor.requestsPerSync.sqs)],
    ['kcp writes/sync', create.requestsPerSync.kcpWrites, floor.requestsPerSync.kcpWrites],
    ['kcp reads/sync', create.requestsPerSync.kcpReads, floor.requestsPerSync.kcpReads],
    ['cluster writes/sync', create.requestsPerSync.clusterWrites, floor.requestsPerSync.clusterWrites],
    ['cluster reads/sync', create.requestsPerSync.clusterReads, floor.requestsPerSync.clusterReads],
  ];
  const fmt = (n: number | undefined): string => (n === undefined ? '-' : num(Math.round(n * 100) / 100));
  const ratio = (a: number | undefined, b: number | undefined): string =>
    a === undefined || b === undefined ? '-' : b === 0 ? (a === 0 ? '1' : '∞') : `${(a / b).toFixed(1)}×`;
  return [
    `tmc ÷ floor: the create phase beside the same work done by the least a correct design needs (bench/e2e/floor.ts; floor converged in ${(floor.convergeMs / 1000).toFixed(1)} s)`,
    table(
      ['figure', 'tmc', 'floor', 'tmc ÷ floor'],
      rows.map(([label, a, b]) => [label, fmt(a), fmt(b), ratio(a, b)]),
    ),
  ];
}

/** A churn quantity's name as the growth table prints it. */
function growthLabel(quantity: string, unit: string): string {
  const [group, name] = quantity.split('.');
  const label: Record<string, string> = {
    rssMb: 'rss',
    threadHeapsMb: `${name} heap (after a full GC)`,
    threadReservedMb: `${name} heap reserved`,
    threadYoungMb: `${name} young generation reserved`,
    outsideHeapsMb: 'outside the heaps (native: malloc, LevelDB, buffers)',
    stateDirMb: 'state dir',
    simulator: `sim ${name === 'events' ? 'Events stored' : name === 'watchEvents' ? 'watch events' : 'request records'}`,
    jobsMs: `${name} run`,
  };
  return `${label[group] ?? quantity}${unit === 'count' ? '' : ` ${unit}`}`;
}

const signed = (n: number, digits = 2): string => `${n > 0 ? '+' : ''}${n.toFixed(digits)}`;

/**
 * The churn phase: its samples, then each quantity's growth per minute over the run and over its second half (near 0
 * there: it levelled off), per hour at the second half's rate, and where that rate takes it after 24 h.
 */
export function churnLines(churn: NonNullable<BenchResults['endToEnd'][number]['churn']>): string[] {
  const jobs = Object.keys(churn.growthPerMinute.jobsMs);
  const threads = Object.keys(churn.growthPerMinute.threadHeapsMb);
  const functions = [...new Set(churn.samples.flatMap((s) => Object.keys(s.containers)))].sort();
  const rss = churn.growth.find((g) => g.quantity === 'rssMb');
  return [
    `churn: ${churn.minutes} min at ${churn.ratePerSecond} changes/s offered, ${churn.achievedPerSecond}/s achieved (${churn.changes.creates} creates, ${churn.changes.updates} updates, ${churn.changes.deletes} deletes; ~${churn.livePairs} live pairs; simulator Events expire ${churn.eventTtlSeconds} s after their last write)`,
    table(
      [
        'at s',
        'rss MB',
        ...threads.map((t) => `${t} heap MB`),
        'outside heaps MB',
        'containers',
        'sim watch events',
        'sim request records',
        'sim Events',
        'state dir MB',
        ...jobs.map((j) => `${j} ms`),
      ],
      churn.samples.map((s) => [
        s.atSeconds,
        s.rssMb.toFixed(0),
        ...threads.map((t) => (s.threadHeapsMb[t] ?? 0).toFixed(1)),
        s.outsideHeapsMb.toFixed(0),
        functions.map((f) => s.containers[f] ?? 0).join('/'),
        s.simulator.watchEvents,
        s.simulator.requestRecords,
        s.simulator.events,
        s.stateDirMb.toFixed(2),
        ...jobs.map((j) => s.jobsMs[j] ?? '-'),
      ]),
    ),
    `containers column: ${functions.join('/')}`,
    table(
      [
        'growth (least-squares slope)',
        'start',
        'end',
        'per min',
        'per min, 2nd half',
        'per hour (2nd half)',
        'after 24 h',
      ],
      churn.growth.map((g) => [
        growthLabel(g.quantity, g.unit),
        num(g.start),
        num(g.end),
        signed(g.perMinute),
        signed(g.secondHalfPerMinute),
        signed(g.perHour, 0),
        g.after24h.toFixed(0),
      ]),
    ),
    ...(rss
      ? [
          `rss: ${signed(rss.perHour, 0)} MB/h at the second half's rate (${signed(rss.perMinute)} MB/min over the run, ${signed(rss.secondHalfPerMinute)} over its second half), ≈${(rss.after24h / 1024).toFixed(2)} GB after 24 h at this rate`,
        ]
      : []),
  ];
}

/**
 * DynamoDB item sizes by kind after the create phase (what its writes are billed by: bench/support/item-size.ts),
 * and each phase's write units per item written, from those sizes (the table's and gsi1's), beside the request-body
 * estimate.
 */
const round2 = (n: number): string => num(Math.round(n * 100) / 100);

export function itemSizeLines(phases: readonly PhaseRow[]): string[] {
  const sized =
    phases.find((p) => p.phase === 'create' && p.dynamodb.itemBytes) ?? phases.find((p) => p.dynamodb.itemBytes);
  if (sized?.dynamodb.itemBytes === undefined) return [];
  const kinds = Object.entries(sized.dynamodb.itemBytes);
  const perWrite = (p: PhaseRow): string => {
    const w = dynamoWriteUnits(p.dynamodb);
    const body = dynamoWriteUnits({ ...p.dynamodb, itemBytes: undefined });
    return w.writes === 0
      ? `${p.phase} -`
      : `${p.phase} ${round2(w.units / w.writes)} = table ${round2(w.tableUnits / w.writes)} + gsi1 ${round2(w.gsi1Units / w.writes)} (request bodies: ${num(body.units / body.writes)}, table only; ${w.sized} of ${w.writes} writes by item size)`;
  };
  return [
    `DynamoDB items by kind after ${sized.phase} (DynamoDB's item size: names + values, bench/support/item-size.ts)`,
    table(
      [
        'kind',
        'items',
        'mean B',
        'p95 B',
        'max B',
        '> 1 KiB',
        'WCU/write',
        'on gsi1',
        'gsi1 WCU/write',
        'largest attributes (mean B)',
      ],
      kinds.map(([kind, k]) => [
        kind,
        k.count,
        k.meanBytes,
        k.p95Bytes,
        k.maxBytes,
        `${Math.round(k.overOneKiB * 100)}%`,
        round2(k.unitsPerWrite),
        `${Math.round(k.onGsi1 * 100)}%`,
        round2(k.gsi1UnitsPerWrite),
        Object.entries(k.attributes)
          .slice(0, 5)
          .map(([a, b]) => `${a} ${b}`)
          .join(', '),
      ]),
    ),
    `write units per item written: ${phases.map(perWrite).join('; ')}`,
  ];
}

/**
 * Per million objects changed, each phase and size: Lambda modelled (CPU and rounds of requests at in-region latencies)
 * beside its upper bound (local durations), the firm request-count items, the total, and the floor run's work priced
 * the same way; then each function's modelled Lambda line for the create phases, and the assumptions.
 */
export function costLines(costs: NonNullable<BenchResults['costs']>): string[] {
  const rows = costs.perMillionChanges;
  const out = [
    `Cost per 1M objects changed (${costs.prices.region}, prices as of ${costs.prices.asOf}; bench/cost/prices.ts; Lambda modelled, bench/cost/phase.ts)`,
    table(
      [
        'what',
        'lambda',
        'lambda upper bound',
        'sched.',
        'dynamodb',
        'sqs',
        'api gw',
        'total',
        'floor',
        'total ÷ floor',
      ],
      rows.map((c) => [
        `per 1M ${c.phase} (${c.size})`,
        c.cost.lambdaBasis === 'modeled' ? usd(c.cost.lambdaRequests + c.cost.lambdaCompute) : '-',
        usd(c.cost.lambdaUpperBound),
        c.cost.schedules === undefined ? '-' : usd(c.cost.schedules),
        usd(c.cost.dynamodb),
        usd(c.cost.sqs),
        usd(c.cost.apiGateway),
        usd(c.cost.total),
        c.floor ? usd(c.floor.total) : '-',
        c.floor && c.floor.total > 0 ? `${(c.cost.total / c.floor.total).toFixed(1)}×` : '-',
      ]),
    ),
  ];
  const floors = rows.filter((c) => c.phase === 'create' && c.floor);
  if (floors.length > 0)
    out.push(
      `floor per 1M creates: ${floors
        .map(
          (c) =>
            `${c.size}: lambda ${usd(c.floor!.lambdaRequests + c.floor!.lambdaCompute)}, dynamodb ${usd(c.floor!.dynamodb)}, sqs ${usd(c.floor!.sqs)}, api gw ${usd(c.floor!.apiGateway)}`,
        )
        .join('; ')}`,
    );
  const creates = rows.filter((c) => c.phase === 'create' && c.cost.byFunction);
  if (creates.length > 0) {
    out.push('Lambda per function, create phase, per 1M objects (modelled; per invocation: CPU, rounds, billed ms)');
    out.push(
      table(
        ['size', 'function', 'MB', 'invocations', 'cpu ms', 'cpu billed ms', 'rounds', 'waits ms', 'billed ms', '$'],
        creates.flatMap((c) =>
          Object.entries(c.cost.byFunction!).map(([fn, b]) => [
            c.size,
            fn,
            b.memoryMb,
            Math.round(b.invocations),
            ms(b.cpuMs),
            ms(b.cpuBilledMs),
            num(Math.round(b.rounds * 10) / 10),
            ms(b.ioMs),
            b.billedMs,
            usd(b.requestsDollars + b.computeDollars),
          ]),
        ),
      ),
    );
  }
  out.push(...PHASE_COST_ASSUMPTIONS.map((a) => `  - ${a}`));
  if (costs.idleMonth) out.push(formatIdleMonth(costs.idleMonth));
  return out;
}

export function formatResults(results: BenchResults): string {
  const out: string[] = [];
  const m = results.machine;
  out.push(
    `tmc bench ${results.mode}: ${m.cpus}× ${m.cpuModel}, ${m.memoryGiB} GiB, node ${m.node}; load average ${m.loadAverageStart.join(' ')} → ${m.loadAverageEnd.join(' ')} (shared machine)`,
  );
  for (const run of results.endToEnd) {
    const o = run.options;
    out.push(
      '',
      `End to end: ${o.objects} Deployments + ${o.objects} ConfigMaps × ${o.clusters} clusters${o.pull ? ' in pull mode (each synced by an in-process tmc syncer through the virtual workspace)' : ''} (latency ${o.latencyMs} ms/request, ready delay ${o.readyDelayMs} ms, ${o.concurrency} writers)`,
    );
    if (o.latencyObjects > 0)
      out.push(
        `latency phase: ${o.latencyObjects} Deployments + ${o.latencyObjects} ConfigMaps more, ${o.latencyRate} writes/s one at a time (the path's latency; the burst phases' is mostly queueing)`,
      );
    out.push(
      table(
        [
          'phase',
          'ok',
          'converge s',
          'syncs/s',
          'applied p50',
          'p95',
          'p99',
          'status p50',
          'p95',
          'p99',
          'deferred',
          'safety net',
          'k8s w/obj·cl',
          'k8s r/obj·cl',
          'kcp w/obj',
          'kcp r/obj',
          'events w/obj',
          'ddb r/obj',
          'ddb w/obj',
          'sqs msg/obj',
          'sqs req/obj',
        ],
        run.phases.map((p) => [
          p.phase,
          p.converged ? 'yes' : 'NO',
          (p.convergeMs / 1000).toFixed(1),
          p.syncsPerSecond,
          ms(p.writeToApplied.p50Ms),
          ms(p.writeToApplied.p95Ms),
          ms(p.writeToApplied.p99Ms),
          ms(p.writeToStatus.p50Ms),
          ms(p.writeToStatus.p95Ms),
          ms(p.writeToStatus.p99Ms),
          p.placementOutcomes.pending ?? 0,
          p.safetyNet.total,
          num(p.kube.clusterWritesPerObjectCluster),
          num(p.kube.clusterReadsPerObjectCluster),
          num(p.kube.kcpWritesPerObject),
          num(p.kube.kcpReadsPerObject),
          num(p.kube.kcpEventWritesPerObject ?? 0),
          num(p.dynamodb.readsPerObject),
          num(p.dynamodb.writesPerObject),
          num(p.sqs.messagesPerObject),
          num(p.sqs.requestsPerObject),
        ]),
      ),
    );
    const netted = run.phases.filter((p) => p.safetyNet.total > 0);
    out.push(
      netted.length === 0
        ? 'objects that needed a safety net (recovery sweep, status backstop): 0 in every phase'
        : `objects that needed a safety net (recovery sweep, status backstop; target 0): ${netted
            .map(
              (p) =>
                `${p.phase} ${p.safetyNet.total} (${Object.entries(p.safetyNet.byRepair)
                  .map(([k, n]) => `${k} ${n}`)
                  .join(', ')})`,
            )
            .join('; ')}`,
    );
    const stages = run.phases.find((p) => p.stages)?.stages;
    if (stages) {
      const part = (label: string, l: { p50Ms: number; p99Ms: number }): string =>
        `${label} p50 ${ms(l.p50Ms)} / p99 ${ms(l.p99Ms)} ms`;
      out.push(
        `latency phase by stage (tmc trace): ${part('write → enqueued', stages.writeToEnqueued)}; ${part('→ placed', stages.enqueuedToPlaced)}; ${part('→ applied everywhere', stages.placedToApplied)}`,
      );
    }
    out.push(...cpuAndRequestTables(run.phases));
    const created = run.phases.find((p) => p.phase === 'create');
    if (run.floor && created) out.push(...floorTable(created, run.floor));
    out.push(...itemSizeLines(run.phases));
    if (run.churn) out.push(...churnLines(run.churn));
    const create = run.phases.find((p) => p.phase === 'create');
    if (create) {
      const sim = Object.entries(create.sim)
        .map(([name, t]) => `${name} ${ms(t.overheadMeanMs)} ms`)
        .join(', ');
      out.push(
        `simulator overhead per request beyond the injected ${o.latencyMs} ms (create phase; kcp includes its admission webhook call): ${sim}`,
      );
    }
  }
  out.push(...pushBesidePull(results.endToEnd));
  for (const f of results.endToEndFailures) out.push('', `End to end ${sizeLabel(f)} FAILED: ${f.error}`);
  if (results.costs) {
    out.push('', ...costLines(results.costs));
  }
  if (results.placement.length) {
    out.push('', 'Placement engine (one core, best of 5 rounds)');
    out.push(
      table(
        ['clusters', 'decisions/s', 'p50 ms', 'p99 ms', 'max ms', 'cpu ms/decision'],
        results.placement.map((r) => [
          r.clusters,
          r.decisionsPerSecond,
          r.p50Ms.toFixed(3),
          r.p99Ms.toFixed(3),
          r.maxMs.toFixed(3),
          r.cpuPerDecisionMs.toFixed(3),
        ]),
      ),
    );
  }
  if (results.coldStart.length) {
    out.push('', 'Cold start (esbuild bundle as infra/ builds it; init = require in a fresh node, median)');
    out.push(
      table(
        ['function', 'KiB', '≤1 MiB', 'CDK budget KiB', 'init ms', 'init cpu ms', '≤300 ms'],
        results.coldStart.map((c) => [
          c.name,
          (c.bytes / 1024).toFixed(0),
          c.underOneMiB ? 'yes' : 'no',
          (c.budgetBytes / 1024).toFixed(0),
          ms(c.initMs),
          ms(c.initCpuMs),
          c.initUnderBudget ? 'yes' : 'no',
        ]),
      ),
    );
  }
  out.push('', 'Targets');
  out.push(
    table(
      ['target', 'measured', 'met'],
      results.targets.map((t) => [t.target, t.measured, t.met === undefined ? 'n/a' : t.met ? 'yes' : 'NO']),
    ),
  );
  return `${out.join('\n')}\n`;
}

/** Each size run in both modes: throughput, latency and cluster writes per object·cluster side by side, per phase. */
function pushBesidePull(runs: EndToEndResult[]): string[] {
  const out: string[] = [];
  for (const pull of runs.filter((r) => r.options.pull)) {
    const push = runs.find(
      (r) =>
        !r.options.pull && r.options.objects === pull.options.objects && r.options.clusters === pull.options.clusters,
    );
    if (!push) continue;
    out.push('', `Push beside pull, ${sizeLabel(push.options)}`);
    out.push(
      table(
        [
          'phase',
          'mode',
          'ok',
          'syncs/s',
          'applied p50',
          'p99',
          'status p50',
          'p99',
          'k8s w/obj·cl',
          'k8s r/obj·cl',
          'ddb r/obj',
          'ddb w/obj',
        ],
        push.phases.flatMap((p) => {
          const q = pull.phases.find((x) => x.phase === p.phase);
          return [p, q]
            .filter((x): x is PhaseResult => x !== undefined)
            .map((x) => [
              x.phase,
              x === p ? 'push' : 'pull',
              x.converged ? 'yes' : 'NO',
              x.syncsPerSecond,
              ms(x.writeToApplied.p50Ms),
              ms(x.writeToApplied.p99Ms),
              ms(x.writeToStatus.p50Ms),
              ms(x.writeToStatus.p99Ms),
              num(x.kube.clusterWritesPerObjectCluster),
              num(x.kube.clusterReadsPerObjectCluster),
              num(x.dynamodb.readsPerObject),
              num(x.dynamodb.writesPerObject),
            ]);
        }),
      ),
    );
  }
  return out;
}
