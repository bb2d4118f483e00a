/**
 * A model version as it is served: its member networks (one, or an ensemble's), each folded with the
 * version's standardisation, averaged by their weights, and divided by the version's temperature. Serving,
 * the champion's side of the promotion guard and /evaluation all build a version through here, so the
 * probabilities a version is judged by are the ones it answers with. A table version also gets its request
 * path (each member's preprocessing into its gathered first layer), mixed the same way.
 */
import { foldNetwork } from '../../models/fold';
import { EnsemblePredictor, mixMembers, Predictor, type ProbabilityModel } from '../../models/infer';
import { specOf } from '../../models/network';
import type { TableInstance } from '../../models/preprocess';
import { TablePredictor } from '../../models/table-predictor';
import { decodeWeights } from '../../models/weights-codec';
import type { ModelVersion } from './types';

export type ServedVersion = Pick<
  ModelVersion,
  'model' | 'version' | 'config' | 'weightsKey' | 'standardisation' | 'members' | 'calibration' | 'preprocessing'
>;

/** The networks a version averages: its members, or the version itself as its one member. */
export function servedMembers(meta: Pick<ServedVersion, 'config' | 'weightsKey' | 'members'>) {
  return meta.members?.length
    ? meta.members.map((m) => ({ config: m.config, weightsKey: m.weightsKey, weight: m.weight }))
    : [{ config: meta.config, weightsKey: meta.weightsKey, weight: 1 }];
}

/** A table version's request path: instances (numbers, strings, null per column) in, probabilities out. */
export interface InstanceModel {
  readonly classes: number;
  predictInstances(instances: readonly TableInstance[]): Float32Array;
  dispose(): void;
}

/** A table version's members on their instance path, averaged and tempered like EnsemblePredictor. */
class TableEnsemble implements InstanceModel {
  readonly classes: number;
  constructor(
    private readonly members: { table: TablePredictor; weight: number }[],
    private readonly temperature: number,
  ) {
    this.classes = members[0]!.table.classes;
  }

  predictInstances(instances: readonly TableInstance[]): Float32Array {
    return mixMembers(
      this.members.map((m) => ({ run: () => m.table.predictInstances(instances), weight: m.weight })),
      this.classes,
      this.temperature,
    );
  }

  dispose(): void {
    for (const m of this.members) m.table.dispose();
  }
}

export interface ServedModel {
  /** Feature rows (encoded, in the version's feature order) in, probabilities out. */
  predictor: ProbabilityModel;
  /** A table version's instance path; null for a numeric version. */
  table: InstanceModel | null;
  /** What both paths hold in memory (see heapBytesOf). */
  heapBytes: number;
  dispose(): void;
}

/**
 * Reads every member's weights (concurrently), folds and loads them. A member whose weights are missing or
 * unreadable fails the whole version (serving then falls back to an earlier one): an ensemble short of a
 * member is not the model that was promoted. Whatever was loaded before a failure is freed.
 */
export async function loadServedVersion(
  meta: ServedVersion,
  getBytes: (key: string) => Promise<ArrayBuffer | null>,
  /** Awaited with the reads (serving's cold path overlaps the wasm backend's start-up with them). */
  ready: Promise<unknown> = Promise.resolve(),
): Promise<ServedModel> {
  const members = servedMembers(meta);
  const [blobs] = await Promise.all([Promise.all(members.map((m) => getBytes(m.weightsKey))), ready]);
  const nets = members.map((m, i) => {
    const bytes = blobs[i];
    if (!bytes) throw new Error(`weights of ${meta.model} v${meta.version} are missing (${m.weightsKey})`);
    return { net: foldNetwork(decodeWeights(bytes), specOf(m.config), meta.standardisation), weight: m.weight };
  });
  const temperature = meta.calibration?.temperature ?? 1;
  // A plain single network stays a bare Predictor / TablePredictor: no averaging pass, no copy.
  const plain = nets.length === 1 && temperature === 1;
  const predictor = plain ? new Predictor(nets[0]!.net) : new EnsemblePredictor(nets, temperature);
  const tables: { table: TablePredictor; weight: number }[] = [];
  try {
    if (meta.preprocessing)
      for (const m of nets) tables.push({ table: new TablePredictor(meta.preprocessing, m.net), weight: m.weight });
  } catch (err) {
    predictor.dispose();
    for (const t of tables) t.table.dispose();
    throw err;
  }
  const table = !tables.length ? null : plain ? tables[0]!.table : new TableEnsemble(tables, temperature);
  return {
    predictor,
    table,
    // The table path's later layers are a second copy of each network (the first layer is gathered).
    heapBytes: predictor.heapBytes * (table ? 2 : 1),
    dispose() {
      predictor.dispose();
      table?.dispose();
    },
  };
}

/** The feature-row path only (the guard's champion side, experiments): the table path is not built. */
export async function loadServedModel(
  meta: ServedVersion,
  getBytes: (key: string) => Promise<ArrayBuffer | null>,
  ready?: Promise<unknown>,
): Promise<ProbabilityModel> {
  const served = await loadServedVersion({ ...meta, preprocessing: undefined }, getBytes, ready);
  return served.predictor;
}
