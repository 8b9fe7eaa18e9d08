import type { ColdStartResult } from './cold-start';
import type { IdleMonth } from './cost/model';
import type { PhaseCost } from './cost/phase';
import type { PRICES } from './cost/prices';
import type { EndToEndResult } from './e2e/scenario';
import type { EngineBenchResult } from './placement/engine';
import type { EndToEndSize } from './sizes';

/** What `npm run bench` writes to `bench/results/<time>-<mode>.json` and prints (report.ts). */

export type BenchMode = 'quick' | 'default' | 'custom';

export interface Target {
  target: string;
  measured: string;
  /** undefined: not measured in this run. */
  met?: boolean;
}

export interface BenchResults {
  schema: 'tmc-bench/v1';
  mode: BenchMode;
  startedAt: string;
  durationSeconds: number;
  commit: string;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    platform: string;
    loadAverageStart: number[];
    loadAverageEnd: number[];
    note: string;
  };
  endToEnd: EndToEndResult[];
  /** Sizes whose run failed (e.g. the stack did not start under load); the others still count. */
  endToEndFailures: Array<EndToEndSize & { pull?: boolean; error: string }>;
  placement: EngineBenchResult[];
  coldStart: ColdStartResult[];
  costs?: {
    prices: typeof PRICES;
    /** Each phase per million objects changed; `floor`: the floor run's work priced alike (create-like phases). */
    perMillionChanges: Array<{ size: string; phase: string; cost: PhaseCost; floor?: PhaseCost }>;
    idleMonth?: IdleMonth;
  };
  targets: Target[];
}
