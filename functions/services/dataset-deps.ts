/** The bindings behind stored datasets: R2 for the immutable versions, the catalog for the current one. */
import type { DatasetDeps } from '../../shared/datasets';
import { R2BlobStore } from '../../shared/storage/blob-store';
import { catalogStub } from '../durable/stubs';

export function datasetDeps(env: Pick<Env, 'DATASETS' | 'DATASET_CATALOG'>): DatasetDeps {
  return { blobs: new R2BlobStore(env.DATASETS), catalog: catalogStub(env.DATASET_CATALOG) };
}
